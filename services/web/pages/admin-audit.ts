/**
 * Administration: the audit logs. The auth service's (sign-ins, tokens, users, grants;
 * filtered and paged through its admin API) and the registry's policy log (tag rules,
 * quotas, retention, notification endpoints; the newest 100 through its lifecycle admin
 * API). Read only: nothing here changes anything.
 */
import { html, type Html } from '../html.js';
import { adminPage, registryAdmin, when, type AdminRequest, type AdminSection } from './admin-shared.js';

interface AuthEntry { id: number; at: string | number; actor: string; action: string; target: string; clientAddress: string; outcome: string; details: Record<string, unknown> }
interface RegistryEntry { at: string; actor: string; action: string; target: string; details: Record<string, unknown> }

const PAGE = 50;
const FILTERS = [
  { name: 'actor', label: 'Actor', hint: 'admin' },
  { name: 'action', label: 'Action', hint: 'user.create' },
  { name: 'outcome', label: 'Outcome', hint: 'denied' },
] as const;

function details(value: Record<string, unknown>): string {
  const text = JSON.stringify(value);
  return text === '{}' ? '' : text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function filterQuery(req: AdminRequest): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const { name } of FILTERS) {
    const value = (req.query.get(name) ?? '').trim().slice(0, 140);
    if (value) filter[name] = value;
  }
  return filter;
}

async function authLog(req: AdminRequest): Promise<Html> {
  const filter = filterQuery(req);
  const before = req.query.get('before') ?? '';
  const query = new URLSearchParams({ ...filter, limit: String(PAGE), ...(/^\d{1,15}$/.test(before) ? { before } : {}) });
  const page = await req.upstream.adminApi<{ entries: AuthEntry[]; nextBefore: number | null }>(req.session, 'GET', `/audit?${query}`);
  const next = page.nextBefore === null ? null : `/admin/audit?${new URLSearchParams({ ...filter, before: String(page.nextBefore) })}`;
  return html`<section aria-labelledby="auth-audit-h"><h2 id="auth-audit-h">Sign-ins, tokens, users and grants</h2>
<form method="get" action="/admin/audit" class="filters">${FILTERS.map((f) => html`<div><label for="audit-${f.name}">${f.label}</label><input type="text" id="audit-${f.name}" name="${f.name}" placeholder="${f.hint}" value="${filter[f.name] ?? ''}"></div>`)}<button type="submit">Filter</button></form>
${page.entries.length ? html`<div class="scroll"><table><caption class="muted">Newest first</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col" class="hide-narrow">From</th><th scope="col" class="hide-narrow">Details</th></tr></thead>
<tbody>${page.entries.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor || html`<span class="muted">anonymous</span>`}</td><td>${e.action}</td><td>${e.target}</td><td>${e.outcome}</td><td class="hide-narrow">${e.clientAddress}</td><td class="hide-narrow"><code>${details(e.details)}</code></td></tr>`)}</tbody></table></div>` : html`<p class="muted">No entries${Object.keys(filter).length ? ' match the filter' : ''}.</p>`}
<nav class="pager" aria-label="Audit pages">${before ? html`<a href="/admin/audit?${new URLSearchParams(filter).toString()}">Newest</a> ` : ''}${next ? html`<a rel="next" href="${next}">Older entries</a>` : ''}</nav></section>`;
}

async function registryLog(req: AdminRequest): Promise<Html> {
  const { entries } = await registryAdmin<{ entries: RegistryEntry[] }>(req, 'GET', '/v2/_dockyard/audit');
  return html`<section aria-labelledby="registry-audit-h"><h2 id="registry-audit-h">Registry policy changes</h2>
${entries.length ? html`<div class="scroll"><table><caption class="muted">Tag rules, quotas, retention and notification endpoints: the 100 newest changes</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col" class="hide-narrow">Details</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target}</td><td class="hide-narrow"><code>${details(e.details)}</code></td></tr>`)}</tbody></table></div>` : html`<p class="muted">No policy changes yet.</p>`}</section>`;
}

export const auditSection: AdminSection = {
  path: '/admin/audit',
  label: 'Audit log',
  async page(req) {
    const [auth, registry] = await Promise.all([authLog(req), registryLog(req)]);
    return adminPage(this.path, 'Audit log', html`${auth}${registry}`);
  },
  actions: [],
};
