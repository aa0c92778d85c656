/** `GET /v2/<name>/tags/list`: a repository's tags in lexical order, paginated. */
import { fail } from '../../../shared/http/errors.js';
import type { RouteOf } from './path.js';
import type { RequestContext } from './context.js';
import { fetchPage, parsePageRequest } from './pagination.js';

/** 200 `{"name", "tags": [...]}`; NAME_UNKNOWN when the repository holds nothing. */
export async function listTags({ ctx, route, query, services }: RequestContext<RouteOf<'tags'>>): Promise<void> {
  const request = parsePageRequest(query, services.config.limits.pageMaxEntries);
  if (!(await services.metadata.repositoryExists(route.name))) {
    throw fail('NAME_UNKNOWN', 'repository name not known to registry', { name: route.name });
  }
  const tags = await fetchPage(ctx, request, `/v2/${route.name}/tags/list`, (page) => services.metadata.listTags(route.name, page));
  ctx.status = 200;
  ctx.body = { name: route.name, tags };
}
