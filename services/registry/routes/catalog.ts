/** `GET /v2/_catalog`: repository names in lexical order, paginated. */
import type { RequestContext } from './context.js';
import { fetchPage, parsePageRequest } from './pagination.js';

/** 200 `{"repositories": [...]}` with a `Link` to the next page when there is one. */
export async function listCatalog({ ctx, query, services }: RequestContext): Promise<void> {
  const request = parsePageRequest(query, services.config.limits.pageMaxEntries);
  const repositories = await fetchPage(ctx, request, '/v2/_catalog', (page) => services.metadata.listRepositories(page));
  ctx.status = 200;
  ctx.body = { repositories };
}
