/**
 * Administration: notification endpoints and their delivery log (docs/notifications.md)
 * through the registry's notification admin API: the endpoints with their backlog, adding
 * one (its secret is sent once and never shown), removing one added here, the newest
 * deliveries (optionally of one endpoint) and queueing a delivery again.
 */
import { html } from '../html.js';
import { csrfField } from './layout.js';
import { adminPage, field, registryAdmin, when, type AdminSection } from './admin-shared.js';

interface Endpoint { name: string; url: string; signed: boolean; repositoryPattern: string | null; format: string; disabled: boolean; source: 'config' | 'api'; pending: number; lagSeconds: number }
interface Delivery { id: number; endpoint: string; action: string; repository: string; status: 'pending' | 'delivered'; attempts: number; lastError: string | null; createdAt: string; deliveredAt: string | null; nextAttemptAt: string | null }

const LOG_ROWS = 50;

export const notificationsSection: AdminSection = {
  path: '/admin/notifications',
  label: 'Notifications',
  async page(req) {
    const { endpoints } = await registryAdmin<{ endpoints: Endpoint[] }>(req, 'GET', '/v2/_dockyard/notifications/endpoints');
    // An endpoint removed meanwhile (an old link) shows every endpoint's log rather than an error page.
    const only = req.query.get('endpoint') ?? '';
    const filter = endpoints.some((e) => e.name === only) ? only : '';
    const { deliveries } = await registryAdmin<{ deliveries: Delivery[] }>(req, 'GET', `/v2/_dockyard/notifications/deliveries?${new URLSearchParams({ limit: String(LOG_ROWS), ...(filter ? { endpoint: filter } : {}) })}`);
    const csrf = csrfField(req.session);
    return adminPage(
      this.path,
      'Notifications',
      html`<p>Each push, delete (and, where asked, pull) is sent to every endpoint whose pattern covers the repository, retried until it is delivered.</p>
<section aria-labelledby="endpoints-h"><h2 id="endpoints-h">Endpoints (${endpoints.length})</h2>
${endpoints.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Repositories</th><th scope="col">Backlog</th><th scope="col" class="hide-narrow">From</th><th scope="col"><span class="muted">Remove</span></th></tr></thead>
<tbody>${endpoints.map((e) => html`<tr><td><a href="/admin/notifications?endpoint=${encodeURIComponent(e.name)}">${e.name}</a>${e.disabled ? html` <span class="badge">disabled</span>` : ''}${e.signed ? html` <span class="badge">signed</span>` : ''}</td><td><code>${e.url}</code></td><td><code>${e.repositoryPattern ?? '**'}</code></td>
<td>${e.pending === 0 ? 'none' : `${e.pending} pending, oldest ${e.lagSeconds} s`}</td><td class="hide-narrow">${e.source === 'config' ? 'configuration file' : 'added here'}</td>
<td>${e.source === 'api' ? html`<form method="post" action="/admin/notifications/endpoints/${e.name}/delete">${csrf}<button type="submit" class="secondary" aria-label="Remove the endpoint ${e.name}">Remove</button></form>` : html`<span class="muted">in the file</span>`}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">No endpoints.</p>`}
</section>
<section aria-labelledby="endpoint-new-h"><h2 id="endpoint-new-h">Add an endpoint</h2>
<form method="post" action="/admin/notifications/endpoints">${csrf}
<label for="endpoint-name">Name</label><input type="text" id="endpoint-name" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,63}">
<label for="endpoint-url">URL (http or https)</label><input type="url" id="endpoint-url" name="url" required>
<label for="endpoint-repositories">Repository pattern (empty: every repository)</label><input type="text" id="endpoint-repositories" name="repositories">
<label for="endpoint-secret">Signing secret (16 to 256 characters; empty: unsigned; never shown again)</label><input type="password" id="endpoint-secret" name="secret" autocomplete="off">
<p><button type="submit">Add endpoint</button></p></form></section>
<section aria-labelledby="deliveries-h"><h2 id="deliveries-h">Delivery log${filter ? html` of ${filter}` : ''}</h2>
${filter ? html`<p><a href="/admin/notifications">All endpoints</a></p>` : ''}
${deliveries.length ? html`<div class="scroll"><table><caption class="muted">The ${LOG_ROWS} newest deliveries, newest first</caption><thead><tr><th scope="col">#</th><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">State</th><th scope="col" class="hide-narrow">Created</th><th scope="col"><span class="muted">Again</span></th></tr></thead>
<tbody>${deliveries.map((d) => html`<tr><td>${d.id}</td><td>${d.endpoint}</td><td>${d.action} <code>${d.repository}</code></td>
<td>${d.status === 'delivered' ? html`delivered ${when(d.deliveredAt)}` : html`pending after ${d.attempts} attempts${d.nextAttemptAt ? html`, next ${when(d.nextAttemptAt)}` : ''}`}${d.lastError ? html`<br><span class="muted">${d.lastError}</span>` : ''}</td><td class="hide-narrow">${when(d.createdAt)}</td>
<td><form method="post" action="/admin/notifications/deliveries/${d.id}/redeliver">${csrf}<button type="submit" class="secondary" aria-label="Send again: delivery ${d.id}">Send again</button></form></td></tr>`)}</tbody></table></div>` : html`<p class="muted">No deliveries yet.</p>`}
</section>`,
    );
  },
  actions: [
    {
      path: /^\/admin\/notifications\/endpoints$/,
      async run(req, form) {
        const repositories = field(form, 'repositories');
        const secret = form.get('secret') ?? '';
        const endpoint = await registryAdmin<Endpoint>(req, 'POST', '/v2/_dockyard/notifications/endpoints', {
          name: field(form, 'name'),
          url: field(form, 'url'),
          ...(repositories ? { repositories } : {}),
          ...(secret ? { secret } : {}),
        });
        return `Endpoint ${endpoint.name} added: events go to ${endpoint.url}.`;
      },
    },
    {
      path: /^\/admin\/notifications\/endpoints\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/delete$/,
      async run(req, _form, match) {
        await registryAdmin(req, 'DELETE', `/v2/_dockyard/notifications/endpoints/${match[1]}`);
        return `Removed the endpoint ${match[1]}.`;
      },
    },
    {
      path: /^\/admin\/notifications\/deliveries\/(\d{1,15})\/redeliver$/,
      async run(req, _form, match) {
        await registryAdmin(req, 'POST', `/v2/_dockyard/notifications/deliveries/${match[1]}/redeliver`);
        return `Delivery ${match[1]} is queued again.`;
      },
    },
  ],
};
