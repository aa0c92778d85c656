/**
 * `GET /v2/_catalog`: repository names in lexical order, paginated. With credentials that
 * name patterns (a token's `dockyard_catalog` claim) only the repositories they cover are
 * listed; a grant of `registry:catalog:*` without patterns (an admin, a foreign token
 * server, htpasswd, none) lists all; `registry:catalog:list` without patterns lists none.
 */
import { listVisibleRepositories } from '../catalog/visible.js';
import type { RequestContext } from './context.js';
import { fetchPage, parsePageRequest } from './pagination.js';

/** 200 `{"repositories": [...]}` with a `Link` to the next page when there is one. */
export async function listCatalog({ ctx, query, grant, fullAccess, services }: RequestContext): Promise<void> {
  const request = parsePageRequest(query, services.config.limits.pageMaxEntries);
  const patterns = grant.catalog ?? (fullAccess ? null : []);
  const repositories = await fetchPage(ctx, request, '/v2/_catalog', (page) =>
    patterns === null ? services.metadata.listRepositories(page) : listVisibleRepositories(services.metadata, patterns, page),
  );
  ctx.status = 200;
  ctx.body = { repositories };
}
