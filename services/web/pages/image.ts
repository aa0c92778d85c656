/**
 * A tag or digest: pull commands with copy buttons, an index's platforms, per platform
 * the layers, the Dockerfile steps (config history) and labels, the source commit, the
 * referrers (signatures, SBOMs), what it is built on and what uses it, and, for users
 * with delete, the way to delete the tag (only the tag) or the manifest.
 */
import { html, type Html } from '../html.js';
import { formatBytes, repositoryHref, type Page, type WebRequest } from './context.js';
import { loadImage, platformText, type Descriptor, type ImageDetails, type ImageView } from './image-data.js';

const SOURCE = 'org.opencontainers.image.source';
const REVISION = 'org.opencontainers.image.revision';

/** A link to the commit, only for an http(s) source and a plain revision. */
function sourceLink(view: ImageView): Html | '' {
  const labels = { ...(view.images[0]?.imageConfig?.config?.Labels ?? {}), ...(view.images[0]?.annotations ?? {}), ...view.annotations };
  const source = labels[SOURCE];
  const revision = labels[REVISION];
  if (!source || !/^https?:\/\/[^\s"'<>]+$/i.test(source)) return '';
  if (!revision || !/^[A-Za-z0-9._-]{1,100}$/.test(revision)) return html`<dt>Source</dt><dd><a href="${source}" rel="nofollow noopener noreferrer">${source}</a></dd>`;
  const commit = `${source.replace(/\.git$/, '').replace(/\/+$/, '')}/commit/${revision}`;
  return html`<dt>Source</dt><dd><a href="${commit}" rel="nofollow noopener noreferrer">${source} @ ${revision.slice(0, 12)}</a></dd>`;
}

function pullCommand(id: string, command: string): Html {
  return html`<div class="pull"><code id="${id}">${command}</code><button type="button" class="secondary" data-copy="${id}" hidden aria-label="Copy: ${command}">Copy</button></div>`;
}

function step(createdBy: string | undefined): string {
  return (createdBy ?? '').replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/^\/bin\/sh -c /, 'RUN ').trim();
}

function imageSection(name: string, image: ImageDetails, heading: string, index: number): Html {
  const labels = Object.entries(image.imageConfig?.config?.Labels ?? {});
  const history = image.imageConfig?.history ?? [];
  const total = image.layers.reduce((sum, l) => sum + l.size, 0);
  const id = `img-${index}`;
  return html`<section aria-labelledby="${id}"><h2 id="${id}">${heading}</h2>
<p><a href="${repositoryHref(name, 'manifests', image.digest)}"><code>${image.digest}</code></a>${image.artifactType ? html` · artifact type <code>${image.artifactType}</code>` : ''}</p>
<h3>Layers (${image.layers.length}, ${formatBytes(total)})</h3>
<div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">Size</th><th scope="col">Digest</th><th scope="col" class="hide-narrow">Media type</th></tr></thead>
<tbody>${image.layers.map((l, i) => html`<tr><td>${i + 1}</td><td>${formatBytes(l.size)}</td><td><code>${l.digest.slice(0, 19)}</code></td><td class="hide-narrow">${l.mediaType ?? ''}</td></tr>`)}</tbody></table></div>
${history.length ? html`<h3>Dockerfile steps</h3><ol class="history">${history.map((h) => html`<li><code>${step(h.created_by) || h.comment || '(no command recorded)'}</code>${h.empty_layer ? html` <span class="muted">(no layer)</span>` : ''}</li>`)}</ol>` : ''}
${labels.length ? html`<h3>Labels</h3><div class="scroll"><table><thead><tr><th scope="col">Label</th><th scope="col">Value</th></tr></thead><tbody>${labels.map(([k, v]) => html`<tr><td><code>${k}</code></td><td>${v}</td></tr>`)}</tbody></table></div>` : ''}
</section>`;
}

function platformsTable(name: string, platforms: Descriptor[]): Html {
  return html`<section aria-labelledby="platforms-h"><h2 id="platforms-h">Platforms (${platforms.length})</h2>
<div class="scroll"><table><thead><tr><th scope="col">Platform</th><th scope="col">Manifest</th><th scope="col">Manifest size</th></tr></thead>
<tbody>${platforms.map((p) => html`<tr><td>${platformText(p.platform) ?? html`<span class="muted">${p.artifactType ?? p.mediaType ?? 'unknown'}</span>`}</td><td><a href="${repositoryHref(name, 'manifests', p.digest)}"><code>${p.digest.slice(0, 19)}</code></a></td><td>${formatBytes(p.size)}</td></tr>`)}</tbody></table></div></section>`;
}

function imageList(items: Array<{ repository: string; digest: string; tags: string[] }>): Html {
  return html`<ul>${items.map((i) => html`<li><a href="${repositoryHref(i.repository, 'manifests', i.digest)}">${i.repository}${i.tags.length ? `:${i.tags.join(', :')}` : `@${i.digest.slice(0, 19)}`}</a></li>`)}</ul>`;
}

function deleteLinks(view: ImageView): Html | '' {
  if (!view.actions.has('delete')) return '';
  const tag = 'tag' in view.reference ? view.reference.tag : null;
  return html`<section aria-labelledby="delete-h"><h2 id="delete-h">Delete</h2><ul>
${tag ? html`<li><a href="${repositoryHref(view.name, 'tags', tag, 'delete')}">Delete the tag ${tag}</a> <span class="muted">(only this tag; other tags of the same image stay)</span></li>` : ''}
<li><a href="${repositoryHref(view.name, 'manifests', view.digest, 'delete')}">Delete the manifest ${view.digest.slice(0, 19)}</a> <span class="muted">(and every tag pointing at it)</span></li></ul></section>`;
}

export async function imagePage({ session, upstream }: WebRequest, name: string, reference: ImageView['reference']): Promise<Page> {
  const view = await loadImage(upstream, session, name, reference);
  const label = 'tag' in reference ? `${name}:${reference.tag}` : `${name}@${view.digest.slice(0, 19)}`;
  const host = upstream.pullHost;
  return {
    title: label,
    body: html`<p><a href="${repositoryHref(name)}">${name}</a></p><h1>${label}</h1>
<section aria-labelledby="pull-h"><h2 id="pull-h">Pull</h2>
${'tag' in reference ? pullCommand('pull-tag', `docker pull ${host}/${name}:${reference.tag}`) : ''}
${pullCommand('pull-digest', `docker pull ${host}/${name}@${view.digest}`)}</section>
<dl class="facts"><dt>Digest</dt><dd><code>${view.digest}</code></dd><dt>Media type</dt><dd>${view.mediaType}</dd>${sourceLink(view)}</dl>
${view.platforms ? platformsTable(name, view.platforms) : ''}
${view.images.map((image, i) => imageSection(name, image, image.platform ?? (view.platforms ? image.digest.slice(0, 19) : 'Image'), i))}
${view.platforms && view.platforms.length > view.images.length ? html`<p class="muted">${view.platforms.length - view.images.length} more platforms: open them from the table above.</p>` : ''}
<section aria-labelledby="referrers-h"><h2 id="referrers-h">Referrers</h2>
${view.referrers.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Artifact type</th><th scope="col">Digest</th><th scope="col">Size</th></tr></thead><tbody>${view.referrers.map((r) => html`<tr><td>${r.artifactType ?? r.mediaType ?? ''}</td><td><a href="${repositoryHref(name, 'manifests', r.digest)}"><code>${r.digest.slice(0, 19)}</code></a></td><td>${formatBytes(r.size)}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">No signatures, SBOMs or other artifacts refer to this image.</p>`}</section>
<section aria-labelledby="lineage-h"><h2 id="lineage-h">Built on</h2>${view.bases.length ? imageList(view.bases) : html`<p class="muted">No base image known to this registry (or none you may pull).</p>`}
<h2>Used by</h2>${view.dependents.length ? imageList(view.dependents) : html`<p class="muted">No image you may pull is built on this one.</p>`}</section>
${deleteLinks(view)}`,
  };
}
