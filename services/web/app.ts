/**
 * The web UI (docs/ui.md): server-rendered pages for people, built over HTTP on the
 * registry's `/v2` and browse API and the auth service's token endpoint, with the signed-in
 * user's own tokens, so it can never show or change more than that user could with
 * docker. It keeps no data of its own beyond sessions (session.ts, in its own database).
 * Like the other services, createApp builds and never listens; main.ts does.
 *
 * Middleware, outermost first: error pages → security headers → assets and health →
 * session → POST check (CSRF, same site) → routes (routes.ts) → 404 page. What a request
 * changed in its session (a flash message, a single sign-on state) is written last.
 */
import Koa, { type Context } from 'koa';
import type { WebConfig } from '../../shared/config/web.js';
import type { Logger } from '../../shared/observability/logger.js';
import { isDatabaseUnavailable } from '../../shared/http/middleware/errors.js';
import { ASSETS } from './assets.js';
import { html } from './html.js';
import { postRefusal, readForm, securityHeaders, sessionIdOf, setSessionCookie } from './http.js';
import { forbiddenPage, notFoundPage, upstreamErrorPage, type ErrorPage } from './pages/errors.js';
import { layout } from './pages/layout.js';
import { route, type RouteDeps } from './routes.js';
import { SessionStore, type Session } from './session.js';
import { Upstream, UpstreamError } from './upstream.js';

export interface WebDeps {
  logger: Logger;
  sessions: SessionStore;
  upstream?: Upstream;
}

export interface WebState {
  session?: Session;
  form?: URLSearchParams;
}

function renderError(ctx: Context, session: Session | undefined, page: ErrorPage): void {
  ctx.status = page.status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = layout({ title: page.title, session, body: page.body }).text;
}

export function createApp(config: WebConfig, deps: WebDeps): Koa {
  const sessions = deps.sessions;
  const upstream = deps.upstream ?? new Upstream(config);
  const secure = config.http.tls !== undefined || config.secureCookies;
  const routeDeps: RouteDeps = { sessions, upstream, secure, ...(config.ssoCallbackUrl ? { ssoCallbackUrl: config.ssoCallbackUrl } : {}) };
  const app = new Koa();
  app.use(async (ctx, next) => {
    await next();
    const session = (ctx.state as WebState).session;
    if (!session) return;
    try {
      await sessions.save(session);
    } catch (err) {
      // The page was rendered already; a lost flash message or sign-on state is told again by the next page.
      deps.logger.warn({ err }, 'saving the web session failed');
    }
  });
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const session = (ctx.state as WebState).session;
      if (err instanceof UpstreamError && err.failure === 'session-expired') {
        if (session) await sessions.destroy(session.id);
        setSessionCookie(ctx, null, secure);
        ctx.redirect(`/login?next=${encodeURIComponent(ctx.method === 'GET' ? ctx.path : '/')}`);
        return;
      }
      if (err instanceof UpstreamError) {
        deps.logger[err.failure === 'unavailable' ? 'warn' : 'debug']({ failure: err.failure, service: err.service, message: err.message }, 'upstream request failed');
        renderError(ctx, session, upstreamErrorPage(err, session, ctx.path));
        return;
      }
      if (isDatabaseUnavailable(err as { code?: string; message?: string })) {
        // The session database (WEB_DATABASE_URL) is down or busy: a retry can succeed.
        deps.logger.warn({ err, path: ctx.path }, 'web session database unavailable');
        ctx.set('Retry-After', '5');
        renderError(ctx, undefined, { status: 503, title: 'Unavailable', body: html`<h1>The web UI is unavailable</h1><p>Its session database cannot be reached. Try again in a moment.</p>` });
        return;
      }
      deps.logger.error({ err, path: ctx.path }, 'web request failed');
      renderError(ctx, session, { status: 500, title: 'Error', body: html`<h1>Something went wrong</h1><p>The error was logged. Try again later.</p>` });
    }
  });
  app.use(async (ctx, next) => {
    securityHeaders(ctx);
    await next();
  });
  app.use(async (ctx, next) => {
    const asset = ASSETS.find((a) => a.path === ctx.path);
    if (asset && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
      ctx.type = asset.type;
      ctx.body = asset.body;
      return;
    }
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    await next();
  });
  app.use(async (ctx, next) => {
    const state = ctx.state as WebState;
    state.session = await sessions.get(sessionIdOf(ctx));
    // Pages can change with the session: never cached, never shared.
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method === 'POST') {
      const form = await readForm(ctx);
      const refusal = postRefusal(ctx, state.session, form);
      if (refusal) return renderError(ctx, state.session, forbiddenPage(refusal));
      state.form = form!;
    } else if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD, POST');
      return;
    }
    await next();
  });
  app.use(async (ctx) => {
    const state = ctx.state as WebState;
    const handled = await route(ctx, state, routeDeps);
    if (!handled) renderError(ctx, state.session, notFoundPage());
  });
  return app;
}
