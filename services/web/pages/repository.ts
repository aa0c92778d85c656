/** A repository: its README (rendered; editable with push) and its tags, newest push first, a page at a time. */
import { html, type Html } from '../html.js';
import { renderMarkdown } from '../markdown.js';
import { repositoryScope, type Upstream } from '../upstream.js';
import type { Session } from '../session.js';
import { formatBytes, nextLast, repositoryHref, type Page, type WebRequest } from './context.js';
import { csrfField } from './layout.js';

const TAG_PAGE = 50;

interface TagRow {
  name: string;
  digest: string;
  pushedAt: string;
  mediaType: string;
  artifactType: string | null;
  sizeBytes: number;
  platforms: string[];
  /** A tag rule keeps this tag where it is (the registry refuses moving or deleting it). */
  immutable: boolean;
}

interface RepositoryRule { kind: 'immutable' | 'forbidden' | 'format'; repositoryPattern: string; tagPattern: string }

const RULE_TEXT: Record<RepositoryRule['kind'], { label: string; meaning: string }> = {
  immutable: { label: 'immutable', meaning: 'once pushed, these tags never move and cannot be deleted' },
  forbidden: { label: 'forbidden', meaning: 'these tags cannot be pushed' },
  format: { label: 'required format', meaning: 'every tag pushed must match' },
};

/** The release-rule badges: which tag rules apply to this repository. */
function ruleBadges(rules: RepositoryRule[]): Html | '' {
  if (rules.length === 0) return '';
  return html`<section aria-labelledby="rules-h" class="rules"><h2 id="rules-h">Release rules</h2><ul class="badges">${rules.map((r) => {
    const text = RULE_TEXT[r.kind] ?? { label: r.kind, meaning: '' };
    return html`<li><span class="badge rule-${r.kind}" title="${text.meaning} (rule for ${r.repositoryPattern})">${text.label}: <code>${r.tagPattern}</code></span></li>`;
  })}</ul></section>`;
}

export interface Readme {
  content: string | null;
  updatedBy: string | null;
  updatedAt: string | null;
}

export function readReadme(upstream: Upstream, session: Session | undefined, name: string): Promise<{ body: Readme }> {
  return upstream.registryJson<Readme>(session, repositoryScope(name), `/v2/${name}/_dockyard/readme`);
}

function tagTable(name: string, tags: TagRow[]): Html {
  if (tags.length === 0) return html`<p>No tags.</p>`;
  return html`<div class="scroll"><table>
<caption class="muted">Tags of ${name}, newest push first</caption>
<thead><tr><th scope="col">Tag</th><th scope="col">Pushed</th><th scope="col">Size</th><th scope="col">Platforms</th><th scope="col" class="hide-narrow">Digest</th></tr></thead>
<tbody>${tags.map(
    (t) => html`<tr><td><a href="${repositoryHref(name, 'tags', t.name)}">${t.name}</a>${t.immutable ? html` <span class="badge rule-immutable">immutable</span>` : ''}</td><td><time datetime="${t.pushedAt}">${t.pushedAt.slice(0, 16).replace('T', ' ')}</time></td>
<td>${formatBytes(t.sizeBytes)}</td><td>${t.platforms.length ? t.platforms.join(', ') : t.artifactType ? html`<span class="muted">${t.artifactType}</span>` : ''}</td>
<td class="hide-narrow"><a href="${repositoryHref(name, 'manifests', t.digest)}"><code>${t.digest.slice(0, 19)}</code></a></td></tr>`,
  )}</tbody></table></div>`;
}

export async function repositoryPage({ ctx, session, upstream }: WebRequest, name: string): Promise<Page> {
  const last = typeof ctx.query.last === 'string' ? ctx.query.last : undefined;
  // Newest push first: the position in that order is what the browse API's Link gives as `last`.
  const params = new URLSearchParams({ sort: 'pushed', n: String(TAG_PAGE), ...(last ? { last } : {}) });
  const [readme, tags, actions, rules] = await Promise.all([
    readReadme(upstream, session, name),
    upstream.registryJson<{ tags: TagRow[] }>(session, repositoryScope(name), `/v2/${name}/_dockyard/tags?${params}`),
    upstream.repositoryActions(session, name),
    upstream.registryJson<{ rules: RepositoryRule[] }>(session, repositoryScope(name), `/v2/${name}/_dockyard/rules`),
  ]);
  const next = nextLast(tags.headers.get('link'));
  const content = readme.body.content;
  const edit = actions.has('push') ? html`<a href="${repositoryHref(name, 'readme', 'edit')}">${content ? 'Edit README' : 'Write a README'}</a>` : '';
  return {
    title: name,
    body: html`<h1>${name}</h1>
<div class="pull"><code id="pull-repo">docker pull ${upstream.pullHost}/${name}</code><button type="button" class="secondary" data-copy="pull-repo" hidden>Copy</button></div>
${ruleBadges(rules.body.rules)}
<section aria-labelledby="readme-h"><h2 id="readme-h">README</h2>
${content ? html`<article class="readme">${renderMarkdown(content)}</article>` : html`<p class="muted">No README yet.</p>`}
${readme.body.updatedBy ? html`<p class="muted">Last edited by ${readme.body.updatedBy}${readme.body.updatedAt ? html` on ${readme.body.updatedAt.slice(0, 10)}` : ''}.</p>` : ''}
<p>${edit}</p></section>
<section aria-labelledby="tags-h"><h2 id="tags-h">Tags</h2>
${tagTable(name, tags.body.tags)}
<nav class="pager" aria-label="Tag pages">${last ? html`<a href="${repositoryHref(name)}">First page</a> ` : ''}${next ? html`<a rel="next" href="${repositoryHref(name)}?last=${encodeURIComponent(next)}">Next page</a>` : ''}</nav>
</section>`,
  };
}

/** The README editor (the registry refuses the save without push, whatever this page shows). */
export async function readmeEditPage({ session, upstream }: WebRequest, name: string): Promise<Page> {
  const readme = await readReadme(upstream, session, name);
  return {
    title: `README of ${name}`,
    body: html`<h1>README of ${name}</h1>
<form method="post" action="${repositoryHref(name, 'readme')}">
${session ? csrfField(session) : ''}
<label for="readme">Markdown (at most 64 KiB; raw HTML is shown as text)</label>
<textarea id="readme" name="content">${readme.body.content ?? ''}</textarea>
<p><button type="submit">Save README</button> <a href="${repositoryHref(name)}">Cancel</a></p>
</form>`,
  };
}
