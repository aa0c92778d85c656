/**
 * Dockyard's storage usage endpoints (docs/lifecycle.md): `GET /v2/<name>/_dockyard/usage`
 * for one repository (needs pull on it) and `GET /v2/_dockyard/usage/<namespace>` for a
 * namespace with its quota (needs catalog access). Each digest counts once.
 */
import { namespaceOf, namespaceUsage, repositoryUsage } from '../lifecycle/quotas.js';
import type { RequestContext } from './context.js';
import type { RouteOf } from './path.js';

/** 200 `{"repository","namespace","usageBytes"}`. */
export async function getRepositoryUsage({ ctx, route, services }: RequestContext<RouteOf<'repositoryUsage'>>): Promise<void> {
  ctx.status = 200;
  ctx.body = { repository: route.name, namespace: namespaceOf(route.name), usageBytes: await repositoryUsage(services.quotas.db, route.name) };
}

/** 200 `{"namespace","usageBytes","hardBytes","softBytes"}` (limits null when none is set). */
export async function getNamespaceUsage({ ctx, route, services }: RequestContext<RouteOf<'namespaceUsage'>>): Promise<void> {
  const quota = await services.quotas.get(route.namespace);
  ctx.status = 200;
  ctx.body = {
    namespace: route.namespace,
    usageBytes: await namespaceUsage(services.quotas.db, route.namespace),
    hardBytes: quota?.hardBytes ?? null,
    softBytes: quota?.softBytes ?? null,
  };
}
