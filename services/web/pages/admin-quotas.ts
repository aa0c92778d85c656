/**
 * Administration: namespace quotas and storage usage (docs/lifecycle.md "Quotas") through
 * the registry's lifecycle admin API: every quota with its namespace's usage, the usage of
 * any namespace on request, setting and removing a quota.
 */
import { html, type Html } from '../html.js';
import { formatBytes } from './context.js';
import { csrfField } from './layout.js';
import { adminPage, field, FormError, parseSize, registryAdmin, type AdminRequest, type AdminSection } from './admin-shared.js';

interface Quota { namespace: string; hardBytes: number | null; softBytes: number | null; usageBytes: number }

const NAMESPACE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

function usageCell(q: Quota): Html {
  if (q.hardBytes === null || q.hardBytes === 0) return html`${formatBytes(q.usageBytes)}`;
  const percent = Math.round((q.usageBytes / q.hardBytes) * 100);
  const over = q.softBytes !== null && q.usageBytes >= q.softBytes;
  return html`${formatBytes(q.usageBytes)} <span class="${over ? 'badge warn' : 'muted'}">${percent}% of the hard limit${over ? ', over the soft limit' : ''}</span>`;
}

/** The usage of the namespace in `?namespace=`, when asked. */
async function lookup(req: AdminRequest): Promise<Html | ''> {
  const namespace = (req.query.get('namespace') ?? '').trim();
  if (namespace === '') return '';
  if (!NAMESPACE.test(namespace) || namespace.length > 255) return html`<p class="notice error" role="alert">${namespace} is no namespace name (the first part of a repository name, such as team).</p>`;
  const usage = await registryAdmin<Quota>(req, 'GET', `/v2/_dockyard/usage/${namespace}`);
  return html`<p class="notice" role="status">Namespace <code>${usage.namespace}</code> uses ${formatBytes(usage.usageBytes)}${usage.hardBytes === null ? ' and has no quota' : html`; hard limit ${formatBytes(usage.hardBytes)}`}${usage.softBytes === null ? '' : html`, soft limit ${formatBytes(usage.softBytes)}`}.</p>`;
}

export const quotasSection: AdminSection = {
  path: '/admin/quotas',
  label: 'Quotas and usage',
  async page(req) {
    const [{ quotas }, looked] = await Promise.all([registryAdmin<{ quotas: Quota[] }>(req, 'GET', '/v2/_dockyard/quotas'), lookup(req)]);
    const csrf = csrfField(req.session);
    return adminPage(
      this.path,
      'Quotas and usage',
      html`<p>A namespace is the first part of a repository name. Over the soft limit pushes go on and the registry warns; a push that would pass the hard limit is refused. Usage counts each stored layer once per namespace.</p>
<section aria-labelledby="quotas-h"><h2 id="quotas-h">Quotas (${quotas.length})</h2>
${quotas.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Namespace</th><th scope="col">Usage</th><th scope="col">Soft limit</th><th scope="col">Hard limit</th><th scope="col"><span class="muted">Remove</span></th></tr></thead>
<tbody>${quotas.map((q) => html`<tr><td><code>${q.namespace}</code></td><td>${usageCell(q)}</td><td>${q.softBytes === null ? 'none' : formatBytes(q.softBytes)}</td><td>${q.hardBytes === null ? 'none' : formatBytes(q.hardBytes)}</td>
<td><form method="post" action="/admin/quotas/delete">${csrf}<input type="hidden" name="namespace" value="${q.namespace}"><button type="submit" class="secondary" aria-label="Remove the quota of ${q.namespace}">Remove</button></form></td></tr>`)}</tbody></table></div>` : html`<p class="muted">No quotas: every namespace may grow as far as storage allows.</p>`}
</section>
<section aria-labelledby="usage-h"><h2 id="usage-h">Usage of a namespace</h2>${looked}
<form method="get" action="/admin/quotas" class="search"><div><label for="usage-namespace">Namespace</label><input type="text" id="usage-namespace" name="namespace" required value="${req.query.get('namespace') ?? ''}"></div><button type="submit">Show usage</button></form></section>
<section aria-labelledby="quota-new-h"><h2 id="quota-new-h">Set a quota</h2>
<form method="post" action="/admin/quotas">${csrf}
<label for="quota-namespace">Namespace</label><input type="text" id="quota-namespace" name="namespace" required>
<label for="quota-hard">Hard limit (e.g. 50GB, 500MiB)</label><input type="text" id="quota-hard" name="hard" required>
<label for="quota-soft">Soft limit (optional)</label><input type="text" id="quota-soft" name="soft">
<p><button type="submit">Set quota</button></p></form></section>`,
    );
  },
  actions: [
    {
      path: /^\/admin\/quotas$/,
      async run(req, form) {
        const namespace = field(form, 'namespace');
        if (!NAMESPACE.test(namespace)) throw new FormError('the namespace must be a repository name component such as team');
        const hardBytes = parseSize(field(form, 'hard'), 'the hard limit');
        if (hardBytes === null) throw new FormError('the hard limit is required (Remove takes a quota away)');
        const softBytes = parseSize(field(form, 'soft'), 'the soft limit');
        await registryAdmin(req, 'PUT', `/v2/_dockyard/quotas/${namespace}`, { hardBytes, softBytes });
        return `Quota of ${namespace} set: hard limit ${formatBytes(hardBytes)}${softBytes === null ? '' : `, soft limit ${formatBytes(softBytes)}`}.`;
      },
    },
    {
      path: /^\/admin\/quotas\/delete$/,
      async run(req, form) {
        const namespace = field(form, 'namespace');
        if (!NAMESPACE.test(namespace)) throw new FormError('no such namespace');
        await registryAdmin(req, 'DELETE', `/v2/_dockyard/quotas/${namespace}`);
        return `Removed the quota of ${namespace}.`;
      },
    },
  ],
};
