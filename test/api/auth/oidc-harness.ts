/**
 * The auth service with single sign-on against a real OpenID provider
 * (test/support/oidc-provider.ts): the provider knows the auth service's callback, the auth
 * service trusts the provider, and one web front end URL is allowed as a redirect.
 */
import { freePort } from '../../e2e/harness/ports.js';
import { browse, CookieJar, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, signIn, startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.js';
import { adminApi, postToken, SERVICE, startHarness, type AuthHarness, type Reply } from './harness.js';

/** The web front end's callback the tests use (nothing listens there: the test stops at the redirect). */
export const WEB_CALLBACK = 'http://127.0.0.1:5002/auth/sso/callback';
export const WEB_CLIENT_ID = 'dockyard-web';

/** Provider accounts by subject: their claims. */
export const ACCOUNTS: Record<string, Record<string, unknown>> = {
  'sub-alice': { preferred_username: 'alice', email: 'alice@example.test', groups: ['devs', 'idp-ops', 'not-in-dockyard', 'ignored'] },
  'sub-impostor': { preferred_username: 'admin', groups: ['devs'] },
  'sub-badname': { preferred_username: 'bad name!', groups: [] },
  'sub-dave': { preferred_username: 'dave', groups: 'devs' },
};

export interface SsoStack {
  h: AuthHarness;
  idp: TestOidcProvider;
  close(): Promise<void>;
}

/** Starts the provider and the auth service (groups devs and ops with grants, idp-ops mapped to ops, `ignored` ignored). */
export async function startSsoStack(options: { userinfoOnly?: boolean } = {}): Promise<SsoStack> {
  // The callback URL names the auth service's port before it listens: a port taken in between is retried.
  let started: { h: AuthHarness; idp: TestOidcProvider } | undefined;
  for (let attempt = 1; !started; attempt++) {
    const port = await freePort();
    const callback = `http://127.0.0.1:${port}/oidc/callback`;
    const idp = await startOidcProvider({ redirectUris: [callback], accounts: ACCOUNTS, userinfoOnly: options.userinfoOnly });
    try {
      const h = await startHarness({
        config: {
          http: { host: '127.0.0.1', port },
          oidc: {
            issuer: idp.issuer,
            clientId: OIDC_CLIENT_ID,
            clientSecret: OIDC_CLIENT_SECRET,
            redirectUrl: callback,
            scopes: ['openid', 'profile', 'email', 'groups'],
            groupsClaim: 'groups',
            usernameClaim: 'preferred_username',
            groupMap: { 'idp-ops': 'ops', ignored: null },
            allowedRedirects: [WEB_CALLBACK],
            refreshMaxAgeSeconds: 3600,
          },
        },
      });
      started = { h, idp };
    } catch (err) {
      await idp.stop();
      if (attempt >= 3 || (err as { code?: unknown }).code !== 'EADDRINUSE') throw err;
    }
  }
  const { h, idp } = started;
  for (const group of ['devs', 'ops', 'ignored']) await adminApi(h, 'POST', '/groups', { name: group });
  await adminApi(h, 'POST', '/grants', { subject: 'group:devs', pattern: 'team/*', actions: 'pull,push' });
  await adminApi(h, 'POST', '/grants', { subject: 'group:ops', pattern: 'ops/*', actions: 'pull' });
  await adminApi(h, 'POST', '/grants', { subject: 'group:ignored', pattern: 'secret/*', actions: 'pull' });
  return {
    h,
    idp,
    async close() {
      await h.close();
      await idp.stop();
    },
  };
}

/** The start URL of a sign-in returning to `redirectUri`. */
export function loginUrl(h: AuthHarness, redirectUri = WEB_CALLBACK, state = 'web-state'): string {
  return `${h.url}/oidc/login?${new URLSearchParams({ redirect_uri: redirectUri, state })}`;
}

/** A whole sign-in as `login` in a fresh browser; the URL the front end is sent back to. */
export async function ssoSignIn(h: AuthHarness, login: string, options: { onRedirect?: (location: string) => string; jar?: CookieJar } = {}): Promise<URL> {
  return signIn(options.jar ?? new CookieJar(), loginUrl(h), { login, stopAt: WEB_CALLBACK, onRedirect: options.onRedirect });
}

/** The front end's redemption of a one-time code at /token. */
export function redeem(h: AuthHarness, code: string, extra: Record<string, string> = {}): Promise<Reply> {
  return postToken(h, { grant_type: 'authorization_code', code, redirect_uri: WEB_CALLBACK, client_id: WEB_CLIENT_ID, service: SERVICE, ...extra });
}

/** The newest audit entries of an action, as [outcome, reason] and the entries themselves. */
export async function auditOf(h: AuthHarness, action: string, limit = 5): Promise<Array<{ actor: string; outcome: string; details: Record<string, unknown> }>> {
  const r = await adminApi(h, 'GET', `/audit?action=${action}&limit=${limit}`);
  return (r.body as unknown as { entries: Array<{ actor: string; outcome: string; details: Record<string, unknown> }> }).entries;
}

export { browse, CookieJar };
