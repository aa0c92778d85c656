/** What every page handler gets, and what it returns. */
import type { Context } from 'koa';
import type { Html } from '../html.js';
import type { Session } from '../session.js';
import type { Upstream } from '../upstream.js';

export interface WebRequest {
  ctx: Context;
  session: Session | undefined;
  upstream: Upstream;
}

/** A page to render in the layout. */
export interface Page {
  title: string;
  body: Html;
  status?: number;
}

/** `1.2 MB` style sizes (decimal units, as docker prints them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** The `last` parameter of a registry `Link: <…?last=X&n=N>; rel="next"` header, if any. */
export function nextLast(link: string | null): string | undefined {
  if (!link) return undefined;
  const target = /<([^>]*)>/.exec(link)?.[1];
  return target ? (new URLSearchParams(target.split('?')[1] ?? '').get('last') ?? undefined) : undefined;
}

/** `/r/<name>` and its sub-pages; names keep their slashes, other parts are encoded. */
export function repositoryHref(name: string, ...rest: string[]): string {
  return rest.length === 0 ? `/r/${name}` : `/r/${name}/-/${rest.map(encodeURIComponent).join('/')}`;
}
