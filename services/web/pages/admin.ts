/**
 * The first administration page: users, groups, robots (a new robot's secret shown once) and grants,
 * through the auth service's admin API with the admin's own admin API token; the API
 * re-checks on every call that the user is still an enabled admin.
 */
import { html, type Html } from '../html.js';
import type { Session } from '../session.js';
import type { Page } from './context.js';
import { csrfField } from './layout.js';
import { adminPage, field, type AdminSection } from './admin-shared.js';

interface User { name: string; admin: boolean; disabled: boolean; createdAt: string }
interface Robot { name: string; revoked: boolean; expiresAt: string | null; lastUsedAt: string | null }
interface Group { name: string; members: string[] }
interface Grant { id: number; subject: string; pattern: string; actions: string[]; createdBy: string }

function usersTable(users: User[]): Html {
  return html`<section aria-labelledby="users-h"><h2 id="users-h">Users (${users.length})</h2><div class="scroll"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">State</th></tr></thead>
<tbody>${users.map((u) => html`<tr><td>${u.name}</td><td>${u.admin ? 'admin' : 'user'}</td><td>${u.disabled ? 'disabled' : 'enabled'}</td></tr>`)}</tbody></table></div>
<p class="muted">Create users, set passwords and groups with <code>dockyard users …</code> (docs/cli.md).</p></section>`;
}

function groupsTable(groups: Group[]): Html {
  return html`<section aria-labelledby="groups-h"><h2 id="groups-h">Groups (${groups.length})</h2>
${groups.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Group</th><th scope="col">Members</th></tr></thead>
<tbody>${groups.map((g) => html`<tr><td>${g.name}</td><td>${g.members.join(', ')}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">No groups.</p>`}
<p class="muted">Grant to a group with the subject <code>group:NAME</code> below; manage members with <code>dockyard groups …</code>.</p></section>`;
}

function robotsSection(session: Session, robots: Robot[]): Html {
  return html`<section aria-labelledby="robots-h"><h2 id="robots-h">Robots (${robots.length})</h2>
${robots.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Login name</th><th scope="col">State</th><th scope="col">Last used</th></tr></thead>
<tbody>${robots.map((r) => html`<tr><td><code>${r.name}</code></td><td>${r.revoked ? 'revoked' : r.expiresAt ? `expires ${r.expiresAt.slice(0, 10)}` : 'active'}</td><td>${r.lastUsedAt?.slice(0, 16).replace('T', ' ') ?? 'never'}</td></tr>`)}</tbody></table></div>` : ''}
<form method="post" action="/admin/robots">${csrfField(session)}
<label for="robot-name">New robot name</label><input type="text" id="robot-name" name="name" required pattern="[a-z0-9][a-z0-9._-]*">
<label for="robot-expires">Expires after (e.g. 30d, 12h; empty: never)</label><input type="text" id="robot-expires" name="expires">
<p><button type="submit">Create robot</button></p></form></section>`;
}

function grantsSection(session: Session, grants: Grant[]): Html {
  return html`<section aria-labelledby="grants-h"><h2 id="grants-h">Grants (${grants.length})</h2>
<div class="scroll"><table><thead><tr><th scope="col">Subject</th><th scope="col">Repositories</th><th scope="col">Actions</th><th scope="col"><span class="muted">Remove</span></th></tr></thead>
<tbody>${grants.map((g) => html`<tr><td>${g.subject}</td><td><code>${g.pattern}</code></td><td>${g.actions.join(', ')}</td>
<td><form method="post" action="/admin/grants/${g.id}/delete">${csrfField(session)}<button type="submit" class="secondary" aria-label="Remove the grant of ${g.actions.join(', ')} on ${g.pattern} to ${g.subject}">Remove</button></form></td></tr>`)}</tbody></table></div>
<form method="post" action="/admin/grants">${csrfField(session)}
<label for="grant-subject">Subject (user:NAME, group:NAME, robot:NAME, anonymous, authenticated)</label><input type="text" id="grant-subject" name="subject" required>
<label for="grant-pattern">Repository pattern (team/app, team/*, team/**)</label><input type="text" id="grant-pattern" name="pattern" required>
<label for="grant-actions">Actions (pull, push, delete, *; comma separated)</label><input type="text" id="grant-actions" name="actions" required value="pull">
<p><button type="submit">Add grant</button></p></form></section>`;
}

export const usersSection: AdminSection = {
  path: '/admin',
  label: 'Users and grants',
  async page({ upstream, session }) {
    const [users, groups, robots, grants] = await Promise.all([
      upstream.adminApi<{ users: User[] }>(session, 'GET', '/users'),
      upstream.adminApi<{ groups: Group[] }>(session, 'GET', '/groups'),
      upstream.adminApi<{ robots: Robot[] }>(session, 'GET', '/robots'),
      upstream.adminApi<{ grants: Grant[] }>(session, 'GET', '/grants'),
    ]);
    return adminPage(this.path, 'Administration', html`${usersTable(users.users)}${groupsTable(groups.groups)}${robotsSection(session, robots.robots)}${grantsSection(session, grants.grants)}`);
  },
  actions: [
    {
      path: /^\/admin\/robots$/,
      async run({ upstream, session }, form) {
        const expires = field(form, 'expires');
        return robotCreatedPage(await upstream.adminApi<{ username: string; secret: string }>(session, 'POST', '/robots', { name: form.get('name') ?? '', ...(expires ? { expires } : {}) }));
      },
    },
    {
      path: /^\/admin\/grants$/,
      async run({ upstream, session }, form) {
        const grant = { subject: form.get('subject') ?? '', pattern: form.get('pattern') ?? '', actions: form.get('actions') ?? '' };
        await upstream.adminApi(session, 'POST', '/grants', grant);
        return `Granted ${grant.actions} on ${grant.pattern} to ${grant.subject}.`;
      },
    },
    {
      path: /^\/admin\/grants\/(\d{1,9})\/delete$/,
      async run({ upstream, session }, _form, match) {
        await upstream.adminApi(session, 'DELETE', `/grants/${match[1]}`);
        return 'Grant removed.';
      },
    },
  ],
};

/** The one time a robot's secret is shown. */
function robotCreatedPage(created: { username: string; secret: string }): Page {
  return {
    title: 'Robot created',
    body: html`<h1>Robot ${created.username} created</h1>
<p class="notice" role="status">Copy the secret now: it is not stored and will not be shown again.</p>
<dl class="facts"><dt>Login name</dt><dd><code>${created.username}</code></dd>
<dt>Secret</dt><dd><div class="pull"><code id="robot-secret">${created.secret}</code><button type="button" class="secondary" data-copy="robot-secret" hidden>Copy</button></div></dd></dl>
<p>Use it as <code>docker login -u '${created.username}' --password-stdin REGISTRY</code>, then add grants for <code>robot:${created.username.replace(/^robot\$/, '')}</code>.</p>
<p><a href="/admin">Back to administration</a></p>`,
  };
}
