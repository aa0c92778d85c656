/**
 * The signed-in user's personal access tokens (docs/identity.md "Personal access tokens"):
 * list, create (the secret shown once, on the answer page only) and revoke, through the
 * auth service's self-service API with the user's own admin API token. This is how a user
 * who signs in through single sign-on only gets a `docker login` password.
 */
import type { Context } from 'koa';
import { html } from '../html.js';
import type { Session } from '../session.js';
import { UpstreamError, type Upstream } from '../upstream.js';
import type { Page } from './context.js';
import { csrfField } from './layout.js';

interface AccessToken { name: string; createdAt: number; expiresAt: number; lastUsedAt: number | null; revoked: boolean }

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function state(t: AccessToken, now: number): string {
  if (t.revoked) return 'revoked';
  return t.expiresAt <= now ? 'expired' : `expires ${day(t.expiresAt)}`;
}

async function listPage(upstream: Upstream, session: Session): Promise<Page> {
  const { tokens } = await upstream.adminApi<{ tokens: AccessToken[] }>(session, 'GET', '/me/access-tokens');
  const now = Date.now();
  return {
    title: 'Access tokens',
    body: html`<h1>Access tokens</h1>
<p>A personal access token is a password for <code>docker login</code> (and podman, skopeo, CI) that grants what you may do, ends at its expiry and can be revoked alone.</p>
<section aria-labelledby="tokens-h"><h2 id="tokens-h">Your tokens (${tokens.length})</h2>
${tokens.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="muted">Revoke</span></th></tr></thead>
<tbody>${tokens.map((t) => html`<tr><td>${t.name}</td><td>${state(t, now)}</td><td>${day(t.createdAt)}</td><td>${t.lastUsedAt === null ? 'never' : day(t.lastUsedAt)}</td>
<td>${t.revoked ? '' : html`<form method="post" action="/access-tokens/${encodeURIComponent(t.name)}/revoke">${csrfField(session)}<button type="submit" class="secondary" aria-label="Revoke the token ${t.name}">Revoke</button></form>`}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">No tokens yet.</p>`}
</section>
<section aria-labelledby="new-token-h"><h2 id="new-token-h">New token</h2>
<form method="post" action="/access-tokens">${csrfField(session)}
<label for="token-name">Name (e.g. laptop, ci)</label><input type="text" id="token-name" name="name" required maxlength="64" pattern="[A-Za-z0-9._-]+">
<label for="token-expires">Expires after (e.g. 30d, 12h, 2w)</label><input type="text" id="token-expires" name="expires" value="30d" required>
<p><button type="submit">Create token</button></p></form></section>`,
  };
}

function createdPage(created: { username: string; secret: string; token: AccessToken }, pullHost: string): Page {
  return {
    title: 'Access token created',
    body: html`<h1>Access token ${created.token.name} created</h1>
<p class="notice" role="status">Copy the token now: it is not stored and will not be shown again.</p>
<dl class="facts"><dt>Username</dt><dd><code>${created.username}</code></dd>
<dt>Token</dt><dd><div class="pull"><code id="token-secret">${created.secret}</code><button type="button" class="secondary" data-copy="token-secret" hidden>Copy</button></div></dd>
<dt>Expires</dt><dd>${day(created.token.expiresAt)} UTC</dd></dl>
<p>Use it as the password: <code>docker login -u '${created.username}' --password-stdin ${pullHost}</code></p>
<p><a href="/access-tokens">Back to access tokens</a></p>`,
  };
}

/**
 * Serves `/access-tokens` (GET), `/access-tokens` (POST: create) and
 * `/access-tokens/<name>/revoke` (POST); false for other paths. The forms passed the CSRF check before.
 */
export async function accessTokenRoutes(ctx: Context, session: Session | undefined, form: URLSearchParams | undefined, upstream: Upstream, render: (page: Page) => void): Promise<boolean> {
  const revoke = /^\/access-tokens\/([^/]+)\/revoke$/.exec(ctx.path);
  if (ctx.path !== '/access-tokens' && !revoke) return false;
  if (!session?.user) {
    ctx.redirect(`/login?next=${encodeURIComponent('/access-tokens')}`);
    return true;
  }
  const post = ctx.method === 'POST';
  if (!post && !revoke) return render(await listPage(upstream, session)), true;
  if (!post) return false;
  const back = (flash: string): true => {
    session.flash = flash;
    ctx.status = 303;
    ctx.redirect('/access-tokens');
    return true;
  };
  try {
    if (revoke) {
      let name: string;
      try {
        name = decodeURIComponent(revoke[1]!);
      } catch {
        return back('Not done: no such token.');
      }
      await upstream.adminApi(session, 'DELETE', `/me/access-tokens/${encodeURIComponent(name)}`);
      return back(`Revoked the token ${name}.`);
    }
    const created = await upstream.adminApi<{ username: string; secret: string; token: AccessToken }>(session, 'POST', '/me/access-tokens', { name: form!.get('name') ?? '', expires: form!.get('expires') || '30d' });
    return render(createdPage(created, upstream.pullHost)), true;
  } catch (err) {
    if (err instanceof UpstreamError && ['invalid', 'not-found'].includes(err.failure)) return back(`Not done: ${err.message}`);
    throw err;
  }
}
