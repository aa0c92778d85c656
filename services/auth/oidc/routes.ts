/**
 * Single sign-on with OpenID Connect (issue 16): the auth service is the relying party, so
 * a front end (the web UI) offers "sign in with the company account" without knowing the
 * provider. `GET /oidc/login?redirect_uri=URL&state=S` sends the browser to the provider;
 * `GET /oidc/callback` receives it back and sends it on to URL with `code` (one-time,
 * 60 s) and `state`; the front end then redeems the code server-side at POST /token with
 * `grant_type=authorization_code&code&redirect_uri&client_id[&service]` for an access token
 * and a refresh token whose life is capped by auth.oidc.refreshmaxageseconds. The flow is
 * flow.ts, the provider protocol provider.ts, users and groups provision.ts, the code
 * grant code-grant.ts. Without auth.oidc.issuer these routes answer 404.
 */
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { clientAddress, singleQuery } from '../http.js';
import type { SignInFlow } from './flow.js';

const COOKIE = 'dockyard_oidc';
const COOKIE_MAX_AGE_SECONDS = 600;

function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** The cookie header, written by hand: Koa refuses a Secure cookie behind a TLS-terminating proxy. */
function browserCookie(value: string, options: CookieOptions, maxAge: number): string {
  return `${COOKIE}=${value}; Path=${options.path}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${options.secure ? '; Secure' : ''}`;
}

/** How the browser-binding cookie is set. */
interface CookieOptions {
  secure: boolean;
  /** The callback's directory as the browser sees it (`/oidc`, or `/auth/oidc` behind a proxy prefix). */
  path: string;
}

/** Cookie settings from the callback URL the browser uses (auth.oidc.redirecturl). */
export function cookieOptionsFor(redirectUrl: string): CookieOptions {
  const url = new URL(redirectUrl);
  return { secure: url.protocol === 'https:', path: url.pathname.replace(/\/[^/]*$/, '') || '/' };
}

/** The /oidc routes for `flow`. */
export function oidcRouter(flow: SignInFlow, cookie: CookieOptions): Router {
  const router = new Router({ prefix: '/oidc' });
  router.get('/login', async (ctx) => {
    const started = await flow.start({ redirectUri: singleQuery(ctx, 'redirect_uri'), clientState: singleQuery(ctx, 'state'), clientAddress: clientAddress(ctx) });
    noStore(ctx);
    ctx.append('Set-Cookie', browserCookie(started.browserSecret, cookie, COOKIE_MAX_AGE_SECONDS));
    ctx.redirect(started.location);
  });
  router.get('/callback', async (ctx) => {
    const location = await flow.finish({
      state: singleQuery(ctx, 'state'),
      code: singleQuery(ctx, 'code'),
      error: singleQuery(ctx, 'error'),
      browserSecret: ctx.cookies.get(COOKIE),
      clientAddress: clientAddress(ctx),
    });
    noStore(ctx);
    ctx.append('Set-Cookie', browserCookie('', cookie, 0));
    ctx.redirect(location);
  });
  return router;
}
