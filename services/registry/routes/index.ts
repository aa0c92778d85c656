/**
 * The /v2 dispatcher: parse the path (one parser), pick the handler by route kind and
 * method (405 with Allow otherwise), authorize exactly what access.ts requires, then run
 * the handler. Nothing reaches a handler unvalidated or unauthorized.
 */
import type { Context, Next } from 'koa';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import { requiredAccess, type AccessRequirement, type HttpMethod } from '../access.js';
import { ChallengeError, type AccessController, type Grant } from '../auth/controller.js';
import { getBase } from './base.js';
import { getReadme, listBrowseRepositories, listBrowseTags, putReadme } from '../browse/routes.js';
import { listRepositoryRules } from '../browse/rules.js';
import { deleteBlob, getBlob } from './blobs.js';
import { getGcStatus, startGcRun } from './gc-admin.js';
import { listCatalog } from './catalog.js';
import type { Handler, RegistryServices } from './context.js';
import {
  addTagRule,
  applyTagRulePreset,
  listLifecycleAudit,
  listQuotas,
  listTagRules,
  removeQuota,
  removeTagRule,
  setQuota,
} from './lifecycle-admin.js';
import { addRetentionPolicy, listRetentionPolicies, removeRetentionPolicy, runRetention } from './retention-admin.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { addNotificationEndpoint, listNotificationDeliveries, listNotificationEndpoints, redeliverNotification, removeNotificationEndpoint } from '../notifications/admin-routes.js';
import { parseRegistryPath, ROUTE_TEMPLATES, type RouteKind, type RouteOf } from './path.js';
import { listReferrers } from './referrers.js';
import { listTags } from './tags.js';
import { getNamespaceUsage, getRepositoryUsage } from './usage.js';
import { cancelUpload, completeUpload, getUploadStatus, patchUpload, startUpload } from './uploads.js';

type MethodTable<K extends RouteKind> = Partial<Record<HttpMethod, Handler<RouteOf<K>>>>;

// HEAD is served by the GET handler wherever no HEAD handler is listed.
const HANDLERS: { [K in RouteKind]: MethodTable<K> } = {
  base: { GET: getBase },
  catalog: { GET: listCatalog },
  tags: { GET: listTags },
  manifest: { GET: getManifest, PUT: putManifest, DELETE: deleteManifest },
  blob: { GET: getBlob, DELETE: deleteBlob },
  uploads: { POST: startUpload },
  upload: { GET: getUploadStatus, PATCH: patchUpload, PUT: completeUpload, DELETE: cancelUpload },
  referrers: { GET: listReferrers },
  repositoryUsage: { GET: getRepositoryUsage },
  namespaceUsage: { GET: getNamespaceUsage },
  tagRules: { GET: listTagRules, POST: addTagRule },
  tagRule: { DELETE: removeTagRule },
  tagRulePreset: { POST: applyTagRulePreset },
  quotas: { GET: listQuotas },
  quota: { PUT: setQuota, DELETE: removeQuota },
  lifecycleAudit: { GET: listLifecycleAudit },
  browseRepositories: { GET: listBrowseRepositories },
  browseTags: { GET: listBrowseTags },
  readme: { GET: getReadme, PUT: putReadme },
  notificationEndpoints: { GET: listNotificationEndpoints, POST: addNotificationEndpoint },
  notificationEndpoint: { DELETE: removeNotificationEndpoint },
  notificationDeliveries: { GET: listNotificationDeliveries },
  notificationRedeliver: { POST: redeliverNotification },
  retentionPolicies: { GET: listRetentionPolicies, POST: addRetentionPolicy },
  retentionPolicy: { DELETE: removeRetentionPolicy },
  retentionRun: { POST: runRetention },
  repositoryRules: { GET: listRepositoryRules },
  gcStatus: { GET: getGcStatus },
  gcRun: { POST: startGcRun },
};

function methodTable<K extends RouteKind>(kind: K): MethodTable<K> {
  return HANDLERS[kind];
}

function allowedMethods(table: MethodTable<RouteKind>): string[] {
  const methods = Object.keys(table);
  if (table.GET && !table.HEAD) methods.push('HEAD');
  return methods;
}

function servedMethod(table: MethodTable<RouteKind>, method: string): HttpMethod | null {
  if (Object.hasOwn(table, method)) return method as HttpMethod;
  return method === 'HEAD' && table.GET ? 'GET' : null;
}

/**
 * Asks the controller for the full requirement; when only a `minimum` exists and the
 * full one is refused, retries with the minimum (a mount then falls back to an upload).
 * The client sees the challenge for the full requirement when both fail.
 */
async function authorize(
  access: AccessController,
  ctx: Context,
  requirement: AccessRequirement,
): Promise<{ grant: Grant; fullAccess: boolean }> {
  try {
    return { grant: await access.authorize(ctx.req.headers, requirement.required), fullAccess: true };
  } catch (err) {
    if (!(err instanceof ChallengeError) || !requirement.minimum) throw err;
    try {
      return { grant: await access.authorize(ctx.req.headers, requirement.minimum), fullAccess: false };
    } catch {
      throw err;
    }
  }
}

/** Koa middleware serving every /v2 endpoint; other paths pass to `next`. */
export function registryRoutes(services: RegistryServices, access: AccessController) {
  return async function serveRegistry(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/v2' && !ctx.path.startsWith('/v2/')) return next();
    const route = parseRegistryPath(ctx.path);
    if (!route) throw fail('NOT_FOUND', 'no such registry endpoint', { path: ctx.path.slice(0, 200) });
    ctx.state.routeTemplate = ROUTE_TEMPLATES[route.kind];
    const table = methodTable(route.kind);
    const method = servedMethod(table, ctx.method);
    if (!method) {
      throw new DockyardError('METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 20)} is not allowed here`, {
        headers: { Allow: allowedMethods(table).join(', ') },
      });
    }
    const query = new URLSearchParams(ctx.querystring);
    // HEAD needs what GET needs.
    const requirement = requiredAccess(route, ctx.method === 'HEAD' ? 'HEAD' : method, query);
    const { grant, fullAccess } = await authorize(access, ctx, requirement);
    ctx.state.subject = grant.subject;
    await table[method]!({ ctx, route, query, grant, fullAccess, services });
  };
}
