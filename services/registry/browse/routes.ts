/**
 * The browse API (docs/ui.md, docs/api.md): what the web UI needs beyond `/v2`, under
 * the registry's own `_dockyard` paths and authorized by access.ts like every `/v2`
 * request, so a token shows through it exactly what it may pull. The repository list is
 * the catalog listing (the token's pull patterns, catalog/visible.ts) with a name-prefix
 * search; a tag page adds push date, size and platforms to `/tags/list`; a README is read
 * with pull and written with push.
 */
import type { Context } from 'koa';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import { isImmutable } from '../lifecycle/tag-rules.js';
import { listAllRepositories, listVisibleRepositories } from '../catalog/visible.js';
import { respondEmpty, type RequestContext } from '../routes/context.js';
import { readBoundedBody } from '../routes/body.js';
import { fetchPage, parsePageRequest } from '../routes/pagination.js';
import type { RouteOf } from '../routes/path.js';
import { README_MAX_BYTES, type PushedPosition, type TagSummary } from './store.js';

/** The most tags one page of the browse API describes (each may read an index from storage). */
const TAG_PAGE_MAX = 100;
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const SEARCH_MAX = 255;

/** `?q=`: a name prefix; REQUEST_INVALID when it is too long or holds a control character. */
function searchPrefix(query: URLSearchParams): string {
  const q = (query.get('q') ?? '').trim();
  if (q.length > SEARCH_MAX || /[\u0000-\u001f]/.test(q)) throw fail('REQUEST_INVALID', `q must be a repository name prefix of at most ${SEARCH_MAX} characters`);
  return q;
}

/** GET: 200 `{"repositories":[…]}`, names the caller may pull starting with `q`, with a `Link` to the next page. */
export async function listBrowseRepositories({ ctx, query, grant, fullAccess, services }: RequestContext<RouteOf<'browseRepositories'>>): Promise<void> {
  const request = parsePageRequest(query, services.config.limits.pageMaxEntries);
  const prefix = searchPrefix(query);
  const patterns = grant.catalog ?? (fullAccess ? null : []);
  const repositories = await fetchPage(ctx, request, '/v2/_dockyard/repositories', (page) =>
    patterns === null ? listAllRepositories(services.metadata, page, prefix) : listVisibleRepositories(services.metadata, patterns, page, prefix),
  );
  // The next page keeps the search.
  const link = ctx.response.get('Link');
  if (link && prefix !== '') ctx.set('Link', link.replace('?last=', `?q=${encodeURIComponent(prefix)}&last=`));
  ctx.body = { repositories };
}

/** `?sort=`: `name` (the default) or `pushed` (newest push first); REQUEST_INVALID for anything else. */
function sortOf(query: URLSearchParams): 'name' | 'pushed' {
  const sort = query.get('sort') ?? 'name';
  if (sort !== 'name' && sort !== 'pushed') throw fail('REQUEST_INVALID', 'sort must be name or pushed');
  return sort;
}

/** A `last` of the push-date order, `<push time in ms>_<tag>` as the Link header gives it; REQUEST_INVALID otherwise. */
function pushedPosition(last: string): PushedPosition {
  const m = /^(\d{1,15})_(.{1,128})$/.exec(last);
  if (!m) throw fail('REQUEST_INVALID', 'with sort=pushed, last is the value the previous page\'s Link header gives');
  return { pushedAt: new Date(Number(m[1])), name: m[2]! };
}

/** The platforms of an index (`os/architecture[/variant]`), read from the stored manifest. */
async function platformsOf(tag: TagSummary, { services }: RequestContext): Promise<string[]> {
  if (!INDEX_TYPES.has(tag.mediaType)) return [];
  try {
    const index = JSON.parse((await services.blobs.getBytes(parseDigest(tag.digest))).toString('utf8')) as { manifests?: Array<{ platform?: { os?: string; architecture?: string; variant?: string } }> };
    return (index.manifests ?? []).flatMap((m) => (m.platform?.os && m.platform.architecture ? [[m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/')] : []));
  } catch (err) {
    if (err instanceof DockyardError) return [];
    throw err;
  }
}

/** GET: 200 `{"repository","tags":[{name,digest,pushedAt,mediaType,artifactType,sizeBytes,platforms,immutable}]}` (immutable: a tag rule keeps it where it is) in tag-name order (or newest push first with `sort=pushed`), paged with `n`/`last`. */
export async function listBrowseTags(request: RequestContext<RouteOf<'browseTags'>>): Promise<void> {
  const { ctx, route, query, services } = request;
  if (!(await services.metadata.repositoryExists(route.name))) throw fail('NAME_UNKNOWN', 'repository name not known to registry', { name: route.name });
  const page = parsePageRequest(query, Math.min(services.config.limits.pageMaxEntries, TAG_PAGE_MAX));
  const byPushed = sortOf(query) === 'pushed';
  let summaries: TagSummary[] = [];
  await fetchPage(ctx, page, `/v2/${route.name}/_dockyard/tags`, async (p) => {
    summaries = byPushed ? await services.browse.tagPageByPushed(route.name, p.last === undefined ? undefined : pushedPosition(p.last), p.n) : await services.browse.tagPage(route.name, p.last, p.n);
    return summaries.map((t) => (byPushed ? `${t.pushedAt.getTime()}_${t.name}` : t.name));
  });
  // The next page keeps the order.
  const link = ctx.response.get('Link');
  if (link && byPushed) ctx.set('Link', link.replace('?last=', '?sort=pushed&last='));
  const rules = await services.ruleStore.list();
  const tags = [];
  for (const tag of summaries.slice(0, page.n)) {
    tags.push({
      name: tag.name,
      digest: tag.digest,
      pushedAt: tag.pushedAt.toISOString(),
      mediaType: tag.mediaType,
      artifactType: tag.artifactType,
      sizeBytes: tag.contentBytes,
      platforms: await platformsOf(tag, request),
      immutable: isImmutable(rules, route.name, tag.name),
    });
  }
  ctx.body = { repository: route.name, tags };
}

/** GET: 200 `{"repository","content","updatedBy","updatedAt"}` (content null when there is no README). */
export async function getReadme({ ctx, route, services }: RequestContext<RouteOf<'readme'>>): Promise<void> {
  if (!(await services.metadata.repositoryExists(route.name))) throw fail('NAME_UNKNOWN', 'repository name not known to registry', { name: route.name });
  const readme = await services.browse.readme(route.name);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { repository: route.name, content: readme?.content ?? null, updatedBy: readme?.updatedBy ?? null, updatedAt: readme?.updatedAt.toISOString() ?? null };
}

function assertMarkdownBody(ctx: Context): void {
  // A cross-site form can send only form and text/plain bodies without a preflight, never this type.
  if (ctx.request.type !== 'text/markdown') throw fail('UNSUPPORTED', 'a README is sent as Content-Type: text/markdown (UTF-8)');
}

/** PUT (text/markdown, at most 64 KiB of UTF-8): 204; an empty body removes the README. */
export async function putReadme({ ctx, route, grant, services }: RequestContext<RouteOf<'readme'>>): Promise<void> {
  assertMarkdownBody(ctx);
  const bytes = await readBoundedBody(ctx.req, README_MAX_BYTES).catch((err: unknown) => {
    if (err instanceof DockyardError && err.status === 413) throw new DockyardError('PAYLOAD_TOO_LARGE', `a README is at most ${README_MAX_BYTES} bytes`);
    throw err;
  });
  let content: string;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fail('REQUEST_INVALID', 'a README must be UTF-8 text');
  }
  if (content.includes('\u0000')) throw fail('REQUEST_INVALID', 'a README must not contain NUL characters');
  await services.browse.setReadme(route.name, content, grant.subject || null);
  respondEmpty(ctx, 204);
}
