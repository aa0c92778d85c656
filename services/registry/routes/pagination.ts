/**
 * `n` / `last` pagination shared by the tag list and the catalog: lexical order, `n`
 * capped by configuration, and an RFC 8288 `Link` to the next page only when one exists.
 */
import type { Context } from 'koa';
import { fail } from '../../../shared/http/errors.js';
import type { Page } from '../metadata/store.js';

/** A validated page request; `n` is already capped. */
export interface PageRequest {
  n: number;
  last?: string;
}

/** Reads `n` and `last`; an `n` that is not a non-negative integer is PAGINATION_NUMBER_INVALID. */
export function parsePageRequest(query: URLSearchParams, maxEntries: number): PageRequest {
  const rawN = query.get('n');
  let n = maxEntries;
  if (rawN !== null && rawN !== '') {
    if (!/^\d+$/.test(rawN)) throw fail('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer', { n: rawN.slice(0, 50) });
    // A huge digit string becomes a large (inexact) float, which the cap still bounds.
    n = Math.min(Number(rawN), maxEntries);
  }
  const last = query.get('last');
  return last === null || last === '' ? { n } : { n, last };
}

/**
 * Fetches one page through `list`, asking for one entry more than `n` to learn whether a
 * next page exists, and sets the `Link` header when it does. Returns the page's entries.
 */
export async function fetchPage(
  ctx: Context,
  request: PageRequest,
  path: string,
  list: (page: Page) => Promise<string[]>,
): Promise<string[]> {
  if (request.n === 0) return [];
  const entries = await list({ n: request.n + 1, ...(request.last === undefined ? {} : { last: request.last }) });
  if (entries.length <= request.n) return entries;
  const page = entries.slice(0, request.n);
  const next = new URLSearchParams({ last: page[page.length - 1]!, n: String(request.n) });
  ctx.set('Link', `<${path}?${next.toString()}>; rel="next"`);
  return page;
}
