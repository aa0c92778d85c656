/**
 * Administration: retention policies (docs/lifecycle.md "Retention") through the
 * registry's lifecycle admin API: the policies, adding and removing one, and a dry run
 * showing what a run would remove (runs themselves go with garbage collection's schedule
 * or `retention run`).
 */
import { html } from '../html.js';
import type { Page } from './context.js';
import { csrfField } from './layout.js';
import { adminPage, field, FormError, registryAdmin, type AdminSection } from './admin-shared.js';

interface Policy { id: number; repositoryPattern: string; tagPattern: string; keepLast: number | null; keepDays: number | null; basis: 'push' | 'pull' }
interface Report { dryRun: boolean; tags: Array<{ repository: string; tag: string; digest: string }>; manifests: Array<{ repository: string; digest: string }> }

/** How many rows of a dry run's report the page lists. */
const REPORT_ROWS = 200;

function count(form: URLSearchParams, name: string, what: string): number | null {
  const text = field(form, name);
  if (text === '') return null;
  if (!/^\d{1,6}$/.test(text)) throw new FormError(`${what} must be a whole number`);
  return Number(text);
}

function keeps(p: Policy): string {
  const parts = [p.keepLast === null ? '' : `the last ${p.keepLast}`, p.keepDays === null ? '' : `those ${p.basis === 'pull' ? 'pulled' : 'pushed'} in the last ${p.keepDays} days`].filter(Boolean);
  return parts.length ? `keeps ${parts.join(' and ')}` : 'keeps nothing';
}

function dryRunPage(report: Report): Page {
  const tags = report.tags.slice(0, REPORT_ROWS);
  return adminPage(
    '/admin/retention',
    'Retention dry run',
    html`<p class="notice" role="status">Nothing was removed. A run now would remove ${report.tags.length} tags and ${report.manifests.length} untagged manifests.</p>
${tags.length ? html`<div class="scroll"><table><caption class="muted">Tags a run would remove</caption><thead><tr><th scope="col">Repository</th><th scope="col">Tag</th><th scope="col" class="hide-narrow">Digest</th></tr></thead>
<tbody>${tags.map((t) => html`<tr><td>${t.repository}</td><td>${t.tag}</td><td class="hide-narrow"><code>${t.digest.slice(0, 19)}</code></td></tr>`)}</tbody></table></div>` : ''}
${report.tags.length > tags.length ? html`<p class="muted">and ${report.tags.length - tags.length} more tags.</p>` : ''}
<p><a href="/admin/retention">Back to retention</a></p>`,
  );
}

export const retentionSection: AdminSection = {
  path: '/admin/retention',
  label: 'Retention',
  async page(req) {
    const { policies } = await registryAdmin<{ policies: Policy[] }>(req, 'GET', '/v2/_dockyard/retention');
    const csrf = csrfField(req.session);
    return adminPage(
      this.path,
      'Retention',
      html`<p>A policy removes the tags of the repositories it covers that it does not keep; immutable tags always stay. Policies run before each scheduled garbage collection.</p>
<section aria-labelledby="policies-h"><h2 id="policies-h">Policies (${policies.length})</h2>
${policies.length ? html`<div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">Repositories</th><th scope="col">Tags</th><th scope="col">Keeps</th><th scope="col"><span class="muted">Remove</span></th></tr></thead>
<tbody>${policies.map((p) => html`<tr><td>${p.id}</td><td><code>${p.repositoryPattern}</code></td><td><code>${p.tagPattern}</code></td><td>${keeps(p)}</td>
<td><form method="post" action="/admin/retention/${p.id}/delete">${csrf}<button type="submit" class="secondary" aria-label="Remove retention policy ${p.id}">Remove</button></form></td></tr>`)}</tbody></table></div>
<form method="post" action="/admin/retention/dry-run">${csrf}<p><button type="submit">Dry run: show what a run would remove</button></p></form>` : html`<p class="muted">No policies: tags stay until someone deletes them.</p>`}
</section>
<section aria-labelledby="policy-new-h"><h2 id="policy-new-h">Add a policy</h2>
<form method="post" action="/admin/retention">${csrf}
<label for="policy-repositories">Repository pattern (team/**, team/app)</label><input type="text" id="policy-repositories" name="repositoryPattern" required>
<label for="policy-tags">Tag pattern (a glob such as pr-*, or a regular expression starting with ^)</label><input type="text" id="policy-tags" name="tagPattern" required value="*">
<label for="policy-last">Keep the last N (newest first; empty: no count)</label><input type="text" inputmode="numeric" id="policy-last" name="keepLast">
<label for="policy-days">Keep those younger than N days (empty: no age)</label><input type="text" inputmode="numeric" id="policy-days" name="keepDays">
<label for="policy-basis">Young means recently</label><select id="policy-basis" name="basis"><option value="push">pushed</option><option value="pull">pulled</option></select>
<p><button type="submit">Add policy</button></p></form></section>`,
    );
  },
  actions: [
    {
      path: /^\/admin\/retention$/,
      async run(req, form) {
        const policy = await registryAdmin<Policy>(req, 'POST', '/v2/_dockyard/retention', {
          repositoryPattern: field(form, 'repositoryPattern'),
          tagPattern: field(form, 'tagPattern'),
          keepLast: count(form, 'keepLast', 'keep the last'),
          keepDays: count(form, 'keepDays', 'keep days'),
          basis: field(form, 'basis') || 'push',
        });
        return `Retention policy ${policy.id} added: in ${policy.repositoryPattern} it ${keeps(policy)} of the tags ${policy.tagPattern}.`;
      },
    },
    {
      path: /^\/admin\/retention\/(\d{1,9})\/delete$/,
      async run(req, _form, match) {
        await registryAdmin(req, 'DELETE', `/v2/_dockyard/retention/${match[1]}`);
        return `Removed retention policy ${match[1]}.`;
      },
    },
    {
      path: /^\/admin\/retention\/dry-run$/,
      async run(req) {
        return dryRunPage(await registryAdmin<Report>(req, 'POST', '/v2/_dockyard/retention/run', { dryRun: true }));
      },
    },
  ],
};
