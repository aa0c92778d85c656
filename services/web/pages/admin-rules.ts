/**
 * Administration: tag rules (docs/lifecycle.md "Tag rules") through the registry's
 * lifecycle admin API: the rules, adding and removing one, and the release preset.
 */
import { html } from '../html.js';
import { csrfField } from './layout.js';
import { adminPage, field, registryAdmin, when, type AdminSection } from './admin-shared.js';

interface TagRule { id: number; kind: string; repositoryPattern: string; tagPattern: string; createdBy: string; createdAt: string }

const KINDS = [
  { kind: 'immutable', text: 'immutable: a matching tag, once pushed, never moves or goes away' },
  { kind: 'forbidden', text: 'forbidden: a matching tag may not be pushed' },
  { kind: 'format', text: 'required format: every tag pushed must match' },
];

export const rulesSection: AdminSection = {
  path: '/admin/rules',
  label: 'Tag rules',
  async page(req) {
    const { rules } = await registryAdmin<{ rules: TagRule[] }>(req, 'GET', '/v2/_dockyard/rules');
    const csrf = csrfField(req.session);
    return adminPage(
      this.path,
      'Tag rules',
      html`<p>Rules decide which tags may be pushed, moved or deleted in the repositories their pattern covers; docker, podman and skopeo print the refusal with the rule's number.</p>
<section aria-labelledby="rules-h"><h2 id="rules-h">Rules (${rules.length})</h2>
${rules.length ? html`<div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Repositories</th><th scope="col">Tags</th><th scope="col" class="hide-narrow">Added</th><th scope="col"><span class="muted">Remove</span></th></tr></thead>
<tbody>${rules.map((r) => html`<tr><td>${r.id}</td><td>${r.kind}</td><td><code>${r.repositoryPattern}</code></td><td><code>${r.tagPattern}</code></td><td class="hide-narrow">${r.createdBy}, ${when(r.createdAt)}</td>
<td><form method="post" action="/admin/rules/${r.id}/delete">${csrf}<button type="submit" class="secondary" aria-label="Remove rule ${r.id} (${r.kind} ${r.repositoryPattern} ${r.tagPattern})">Remove</button></form></td></tr>`)}</tbody></table></div>` : html`<p class="muted">No rules: every tag may be pushed, moved and deleted by whoever may push and delete.</p>`}
</section>
<section aria-labelledby="rule-new-h"><h2 id="rule-new-h">Add a rule</h2>
<form method="post" action="/admin/rules">${csrf}
<label for="rule-kind">Kind</label><select id="rule-kind" name="kind">${KINDS.map((k) => html`<option value="${k.kind}">${k.text}</option>`)}</select>
<label for="rule-repositories">Repository pattern (prod/**, team/*, team/app)</label><input type="text" id="rule-repositories" name="repositoryPattern" required>
<label for="rule-tags">Tag pattern (a glob such as v*, or a regular expression starting with ^)</label><input type="text" id="rule-tags" name="tagPattern" required>
<p><button type="submit">Add rule</button></p></form></section>
<section aria-labelledby="preset-h"><h2 id="preset-h">Release preset</h2>
<p>Adds the rules of the release policy that are not there yet: in <code>test/**</code> only commit ids as tags; in <code>prod/**</code> no <code>latest</code>, only semantic versions, and every tag immutable.</p>
<form method="post" action="/admin/rules/presets/release">${csrf}<p><button type="submit" class="secondary">Apply the release preset</button></p></form></section>`,
    );
  },
  actions: [
    {
      path: /^\/admin\/rules$/,
      async run(req, form) {
        const rule = await registryAdmin<TagRule>(req, 'POST', '/v2/_dockyard/rules', { kind: field(form, 'kind'), repositoryPattern: field(form, 'repositoryPattern'), tagPattern: field(form, 'tagPattern') });
        return `Rule ${rule.id} (${rule.kind} ${rule.repositoryPattern} ${rule.tagPattern}) is in force.`;
      },
    },
    {
      path: /^\/admin\/rules\/(\d{1,9})\/delete$/,
      async run(req, _form, match) {
        const rule = await registryAdmin<TagRule>(req, 'DELETE', `/v2/_dockyard/rules/${match[1]}`);
        return `Removed rule ${rule.id} (${rule.kind} ${rule.repositoryPattern} ${rule.tagPattern}).`;
      },
    },
    {
      path: /^\/admin\/rules\/presets\/release$/,
      async run(req) {
        const { rules } = await registryAdmin<{ rules: TagRule[] }>(req, 'POST', '/v2/_dockyard/rules/presets/release');
        return `The release preset is in force: rules ${rules.map((r) => r.id).join(', ')}.`;
      },
    },
  ],
};
