/**
 * "Sign in with single sign-on" (docs/ui.md): the web UI is a front end of the auth
 * service's OpenID Connect sign-in (docs/identity.md "For a front end"). It sends the
 * browser to `<auth>/oidc/login` with a random state kept in this browser's session, takes
 * the one-time code at `/login/sso/callback` only with that state (so nobody can push their
 * own sign-in into someone else's browser), and redeems the code server side. A code buys
 * one refresh token for one audience, so the sign-in runs twice in a row (registry, then
 * admin API for the self-service pages); the second run passes the provider without a
 * prompt while its session there lasts. Then a new session is made exactly as for a
 * password sign-in. Offered only when `web.sso.callbackurl` is set.
 */
import type { Context } from 'koa';
import type { WebState } from '../app.js';
import { ensureSession, setSessionCookie } from '../http.js';
import { forbiddenPage } from '../pages/errors.js';
import { safeNext } from '../pages/forms.js';
import type { Page } from '../pages/context.js';
import { randomSecret, secretMatches, type Session, type SessionStore } from '../session.js';
import { UpstreamError, type Upstream } from '../upstream.js';
import { html } from '../html.js';

export const SSO_START = '/login/sso';
export const SSO_CALLBACK = '/login/sso/callback';

export interface SsoDeps {
  sessions: SessionStore;
  upstream: Upstream;
  secure: boolean;
  callbackUrl: string;
  render(page: Page): void;
}

function failedPage(message: string, status: number): Page {
  return { title: 'Sign-in failed', status, body: html`<h1>Single sign-on failed</h1><p class="notice error" role="alert">${message}</p><p><a href="/login">Back to sign-in</a></p>` };
}

/** Sends the browser to the auth service with a fresh state for `leg`. */
async function sendToAuth(ctx: Context, deps: SsoDeps, session: Session, next: string, leg: 'registry' | 'admin', registry?: { name: string; refreshToken: string }): Promise<void> {
  const state = randomSecret();
  session.sso = { state, next, leg, ...(registry ? { registry } : {}) };
  ctx.status = 303;
  ctx.redirect(await deps.upstream.ssoStartUrl(deps.callbackUrl, state));
}

async function callback(ctx: Context, state: WebState, deps: SsoDeps): Promise<void> {
  const session = state.session;
  const pending = session?.sso;
  const sent = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
  if (!session || !pending || !secretMatches(pending.state, sent)) {
    if (session) session.sso = undefined;
    return deps.render(forbiddenPage('This sign-in was not started in this browser, or has already been used. Start it again from the sign-in page.'));
  }
  // A state is good for one return only, whatever comes of it.
  session.sso = undefined;
  const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
  if (!code) {
    const why = ctx.query.error === 'temporarily_unavailable' ? 'The identity provider could not be reached. Try again later.' : 'The sign-in was refused. Ask an administrator if this persists.';
    return deps.render(failedPage(why, 401));
  }
  try {
    if (pending.leg === 'registry') {
      const registry = await deps.upstream.redeemCode(code, deps.callbackUrl, 'registry');
      return await sendToAuth(ctx, deps, session, pending.next, 'admin', { name: registry.name, refreshToken: registry.refreshToken });
    }
    const admin = await deps.upstream.redeemCode(code, deps.callbackUrl, 'admin');
    const registry = pending.registry!;
    if (admin.name !== registry.name) {
      await deps.upstream.revoke(admin.refreshToken);
      await deps.upstream.revoke(registry.refreshToken);
      return deps.render(failedPage('The two steps of the sign-in named different users. Sign out at the identity provider and try again.', 401));
    }
    await deps.sessions.destroy(session.id);
    const signedIn = await deps.sessions.create({ name: registry.name, refreshToken: registry.refreshToken, adminRefreshToken: admin.refreshToken, admin: await deps.upstream.isAdmin(admin.token) });
    setSessionCookie(ctx, signedIn, deps.secure);
    ctx.status = 303;
    ctx.redirect(pending.next);
  } catch (err) {
    if (err instanceof UpstreamError && err.failure === 'unauthorized') return deps.render(failedPage('The sign-in code was refused (used already or expired). Start again.', 401));
    throw err;
  }
}

/** Serves the two single sign-on routes; false for any other request. */
export async function ssoRoutes(ctx: Context, state: WebState, deps: SsoDeps): Promise<boolean> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
  if (ctx.path === SSO_START) {
    state.session = await ensureSession(ctx, deps.sessions, state.session, deps.secure);
    await sendToAuth(ctx, deps, state.session, safeNext(ctx.query.next), 'registry');
    return true;
  }
  if (ctx.path === SSO_CALLBACK) return await callback(ctx, state, deps), true;
  return false;
}
