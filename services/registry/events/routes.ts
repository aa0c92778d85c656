/**
 * `GET /api/v1/images/{bases,dependents,stale,tag-history}?image=REPO:TAG|REPO@DIGEST[&depth=N][&limit=N]`,
 * and `GET /api/v1/images/stale?namespace=NS` (every moved tag of the namespace with its stale images).
 * The caller needs pull on the repository asked about (the same AccessController decision
 * as a `/v2` pull, so a token caller needs a token with that scope). Every image in an
 * answer is then kept only when the caller may pull its repository, asked of the same
 * controller per repository: a token caller sees only repositories its token grants pull
 * on (or, when it also asked for the catalog, that its catalog listing covers), and learns
 * nothing about the others (not even their count).
 */
import type { Context, Next } from 'koa';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import { matchesPattern } from '../../../shared/grammar/repository-pattern.js';
import { CATALOG_ACCESS, CATALOG_LIST_ACCESS } from '../access.js';
import type { AccessController } from '../auth/controller.js';
import type { RegistryServices } from '../routes/context.js';
import { assertName } from '../../../shared/grammar/reference.js';
import { basesOf, DEFAULT_DEPTH, dependentsOf, MAX_DEPTH, resolveImage, staleFor, staleInNamespace, type DescribedImage } from './queries.js';
import { parseImageReference, referencePart, type ImageReference } from './reference.js';

const PREFIX = '/api/v1/images/';
const HISTORY_LIMIT = 100;
const QUERIES = ['bases', 'dependents', 'stale', 'tag-history'] as const;
type Query = (typeof QUERIES)[number];

/** A positive integer query parameter, at most `max`; REQUEST_INVALID otherwise. */
function boundedInteger(value: string | null, name: string, fallback: number, max: number): number {
  if (value === null) return fallback;
  const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw fail('REQUEST_INVALID', `${name} must be an integer from 1 to ${max}`, { [name]: value.slice(0, 20) });
  return n;
}

/**
 * What the caller's catalog listing covers, asked of the same controller: everything for
 * `registry:catalog:*` without patterns, else the pull patterns its credentials carry
 * (the names the catalog lists for it anyway), else nothing.
 */
async function catalogCoverage(access: AccessController, ctx: Context): Promise<(repository: string) => boolean> {
  for (const record of [CATALOG_ACCESS, CATALOG_LIST_ACCESS]) {
    try {
      const grant = await access.authorize(ctx.req.headers, [{ ...record, actions: [...record.actions] }]);
      if (grant.catalog === undefined) return record === CATALOG_ACCESS ? () => true : () => false;
      const patterns = grant.catalog;
      return (repository) => patterns.some((p) => matchesPattern(p, repository));
    } catch {
      // Not granted: try the smaller record, then nothing.
    }
  }
  return () => false;
}

/**
 * Memoized "may the caller pull this repository", decided by the access controller: a
 * token granting pull on it, or (for a token that asked for the catalog as well, as the
 * web UI's do) the caller's catalog listing covering it.
 */
function pullCheck(access: AccessController, ctx: Context): (repository: string) => Promise<boolean> {
  const decided = new Map<string, Promise<boolean>>();
  let coverage: Promise<(repository: string) => boolean> | undefined;
  return (repository) => {
    let decision = decided.get(repository);
    if (!decision) {
      decision = access.authorize(ctx.req.headers, [{ type: 'repository', name: repository, actions: ['pull'] }]).then(
        () => true,
        async () => (await (coverage ??= catalogCoverage(access, ctx)))(repository),
      );
      decided.set(repository, decision);
    }
    return decision;
  };
}

async function visible<T extends DescribedImage>(images: T[], mayPull: (repository: string) => Promise<boolean>): Promise<T[]> {
  const kept: T[] = [];
  for (const image of images) if (await mayPull(image.repository)) kept.push(image);
  return kept;
}

async function answer(
  query: Query,
  image: ImageReference,
  services: RegistryServices,
  params: URLSearchParams,
  mayPull: (repository: string) => Promise<boolean>,
): Promise<unknown> {
  const depth = boundedInteger(params.get('depth'), 'depth', DEFAULT_DEPTH, MAX_DEPTH);
  const { metadata } = services;
  if (query === 'tag-history' || query === 'stale') {
    if (!('tag' in image)) throw fail('TAG_INVALID', `${query} takes REPO:TAG, not a digest`);
    if (query === 'tag-history') {
      const limit = boundedInteger(params.get('limit'), 'limit', HISTORY_LIMIT, 1000);
      return { repository: image.repository, tag: image.tag, history: await metadata.lineage.tagHistory(image.repository, image.tag, limit) };
    }
    const report = await staleFor(metadata, image.repository, image.tag, depth);
    return { ...report, stale: await visible(report.stale, mayPull) };
  }
  const resolved = await resolveImage(metadata, image.repository, referencePart(image));
  if (query === 'bases') {
    const platforms = await basesOf(metadata, resolved);
    for (const platform of platforms) platform.bases = await visible(platform.bases, mayPull);
    return { image: resolved, platforms };
  }
  return { image: resolved, depth, dependents: await visible(await dependentsOf(metadata, resolved, depth), mayPull) };
}

/** Koa middleware serving the lineage API; other paths pass to `next`. */
export function lineageRoutes(services: RegistryServices, access: AccessController) {
  return async function serveLineage(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith(PREFIX)) return next();
    const query = ctx.path.slice(PREFIX.length) as Query;
    if (!QUERIES.includes(query)) throw fail('NOT_FOUND', 'no such lineage endpoint', { path: ctx.path.slice(0, 200) });
    ctx.state.routeTemplate = `${PREFIX}${query}`;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      throw new DockyardError('METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 20)} is not allowed here`, { headers: { Allow: 'GET, HEAD' } });
    }
    const params = new URLSearchParams(ctx.querystring);
    const namespace = params.get('namespace');
    if (query === 'stale' && namespace !== null && !params.has('image')) {
      // Any authenticated caller; the answer holds only repositories it may pull.
      const grant = await access.authorize(ctx.req.headers, []);
      ctx.state.subject = grant.subject;
      const depth = boundedInteger(params.get('depth'), 'depth', DEFAULT_DEPTH, MAX_DEPTH);
      ctx.body = { namespace, reports: await staleInNamespace(services.metadata, assertName(namespace), depth, pullCheck(access, ctx)) };
      return;
    }
    const text = params.get('image');
    if (text === null) throw fail('REQUEST_INVALID', 'the image parameter is required: image=REPO:TAG or image=REPO@DIGEST');
    const image = parseImageReference(text);
    // The one decision that admits the request: pull on the repository asked about.
    const grant = await access.authorize(ctx.req.headers, [{ type: 'repository', name: image.repository, actions: ['pull'] }]);
    ctx.state.subject = grant.subject;
    ctx.body = await answer(query, image, services, params, pullCheck(access, ctx));
  };
}
