/** The start page: the repositories the caller may pull, with a name-prefix search and paging. */
import { html } from '../html.js';
import { CATALOG_SCOPE, UpstreamError } from '../upstream.js';
import { nextLast, repositoryHref, type Page, type WebRequest } from './context.js';

const PAGE_SIZE = 50;

export async function repositoriesPage({ ctx, session, upstream }: WebRequest): Promise<Page> {
  const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim().slice(0, 255) : '';
  const last = typeof ctx.query.last === 'string' ? ctx.query.last : undefined;
  const params = new URLSearchParams({ n: String(PAGE_SIZE) });
  if (q) params.set('q', q);
  if (last) params.set('last', last);
  let repositories: string[] = [];
  let next: string | undefined;
  let noAccess = false;
  try {
    const { body, headers } = await upstream.registryJson<{ repositories: string[] }>(session, CATALOG_SCOPE, `/v2/_dockyard/repositories?${params}`);
    repositories = body.repositories;
    next = nextLast(headers.get('link'));
  } catch (err) {
    // No catalog access at all is an empty list, not an error page.
    if (!(err instanceof UpstreamError) || (err.failure !== 'unauthorized' && err.failure !== 'denied')) throw err;
    noAccess = true;
  }
  const nextHref = next === undefined ? undefined : `/?${new URLSearchParams({ ...(q ? { q } : {}), last: next })}`;
  const empty = noAccess && !session?.user
    ? html`<p>Nothing is public here. <a href="/login">Sign in</a> to see the repositories you may pull.</p>`
    : html`<p>No repositories${q ? html` starting with <code>${q}</code>` : ''} that you may pull.</p>`;
  return {
    title: 'Repositories',
    body: html`<h1>Repositories</h1>
<form class="search" method="get" action="/" role="search">
  <div><label for="q">Repository name starts with</label><input type="search" id="q" name="q" value="${q}" placeholder="library/"></div>
  <button type="submit">Search</button>
</form>
${repositories.length === 0 ? empty : html`<ul class="repos" aria-label="Repositories">${repositories.map((name) => html`<li><a href="${repositoryHref(name)}">${name}</a></li>`)}</ul>`}
<nav class="pager" aria-label="Pages">${last ? html`<a href="/${q ? `?q=${encodeURIComponent(q)}` : ''}">First page</a> ` : ''}${nextHref ? html`<a href="${nextHref}" rel="next">Next page</a>` : ''}</nav>`,
  };
}
