/**
 * The auth service's Koa application: /token (GET and POST), the admin API under /api/v1,
 * single sign-on under /oidc when configured (oidc/routes.ts),
 * the published keys (/.well-known/jwks.json and /certs.pem) and health endpoints. It is
 * assembled from its dependencies and never listens; main.ts (or a test) decides where.
 *
 * Middleware, outermost first: error renderer → request id → client address → access log → JSON 404 →
 * (metrics) → /token → routes with their 405 handling. Nothing here caches users or
 * grants: every token request reads them.
 */
import { Router } from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { AuthServiceConfig } from '../../shared/config/index.js';
import { DockyardError, fail } from '../../shared/http/errors.js';
import type { SigningKeys } from '../../shared/crypto/keys.js';
import type { Logger } from '../../shared/observability/logger.js';
import { httpMetrics, metricsEndpoint, recordTokenOutcome, tokenRequestMetrics, tokensIssuedCounter, type Registry, type TokenOutcome } from '../../shared/observability/metrics.js';
import { accessLog } from '../../shared/http/middleware/access-log.js';
import { ClientAddressResolver } from '../../shared/http/client-address.js';
import { clientAddress } from '../../shared/http/middleware/client-address.js';
import { errorRenderer } from '../../shared/http/middleware/errors.js';
import { requestId } from '../../shared/http/middleware/request-id.js';
import type { Knex } from '../../shared/db/index.js';
import { AdminGate } from './admin-gate.js';
import { AuditLog } from './audit.js';
import { Authenticator } from './authenticate.js';
import type { TokenIssuer } from './issue.js';
import { identitiesFor } from './identity/index.js';
import { AdminOperations } from './operations/index.js';
import { SignInFlow } from './oidc/flow.js';
import { cookieOptionsFor, oidcRouter } from './oidc/routes.js';
import { OidcStore } from './oidc/store.js';
import { adminRouter } from './routes/admin.js';
import { mountTokenRoutes, tokenEndpoint } from './routes/token.js';
import { AuditStore } from './store/audit.js';
import { LoginAttemptStore } from './store/login-attempts.js';
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottlePolicy } from './throttle.js';
import { TokenService } from './tokens.js';

/** What the auth app is built from. */
export interface AuthDeps {
  db: Knex;
  keys: SigningKeys;
  issuer: TokenIssuer;
  logger: Logger;
  /** Login throttling (default 10 failures per account, 50 per address, in 5 minutes). */
  throttle?: ThrottlePolicy;
  /** When set, HTTP and token metrics are recorded here and served at /metrics. */
  metrics?: Registry;
}

function outcomeOf(ctx: Context, err: unknown): TokenOutcome {
  if (err === undefined) {
    const outcome: unknown = ctx.state.tokenOutcome;
    return outcome === 'anonymous' || outcome === 'refreshed' ? outcome : 'issued';
  }
  if (!(err instanceof DockyardError) || err.status >= 500) return 'error';
  return err.status === 401 || err.status === 429 ? 'unauthorized' : 'invalid_request';
}

/**
 * Counts /token outcomes (issued, anonymous, refreshed, unauthorized, invalid_request,
 * error) and records requests by grant type and result, login failures (401), throttled
 * requests (429) and latency.
 */
function tokenMetrics(registry: Registry) {
  const counter = tokensIssuedCounter(registry);
  const metrics = tokenRequestMetrics(registry);
  return async function countTokens(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/token') return next();
    const started = process.hrtime.bigint();
    const record = (outcome: TokenOutcome, status: number): void => {
      const grantType = typeof ctx.state.grantType === 'string' ? ctx.state.grantType : 'unsupported';
      recordTokenOutcome(counter, outcome);
      metrics.requests.inc({ grant_type: grantType, result: status === 429 ? 'throttled' : outcome });
      if (status === 401) metrics.loginFailures.inc({ grant_type: grantType });
      if (status === 429) metrics.throttled.inc({ grant_type: grantType });
      metrics.duration.observe({ grant_type: grantType }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      await next();
      if (ctx.status === 200) record(outcomeOf(ctx, undefined), 200);
    } catch (err) {
      record(outcomeOf(ctx, err), err instanceof DockyardError ? err.status : 500);
      throw err;
    }
  };
}

/** Renders an unmatched request as the JSON 404 (after the routers' 405 handling had its turn). */
async function notFoundAsJson(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.status === 404 && ctx.body == null) throw fail('NOT_FOUND', 'not found', { path: ctx.path.slice(0, 200) });
}

function publicRoutes(db: Knex, keys: SigningKeys): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await db.raw('select 1');
      keys.current();
    } catch {
      throw new DockyardError('UNAVAILABLE', 'database or signing keys unavailable', { headers: { 'Retry-After': '1' } });
    }
    ctx.body = { status: 'ready' };
  });
  router.get('/.well-known/jwks.json', async (ctx) => {
    await keys.refresh();
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.body = keys.jwks();
  });
  router.get('/certs.pem', async (ctx) => {
    await keys.refresh();
    ctx.set('Cache-Control', 'public, max-age=60');
    ctx.type = 'application/x-pem-file';
    ctx.body = keys.certificatesPem();
  });
  return router;
}

/** Builds the auth service application. */
export function createAuthApp(config: AuthServiceConfig, deps: AuthDeps): Koa {
  const throttle = new LoginThrottle(new LoginAttemptStore(deps.db), deps.throttle ?? DEFAULT_THROTTLE);
  const authenticator = new Authenticator({ db: deps.db, bcryptCost: config.bcryptCost, throttle, identity: identitiesFor(deps.db, config.ldap, deps.logger, deps.metrics) });
  const audit = new AuditLog(new AuditStore(deps.db));
  const oidc = config.oidc;
  const tokens = new TokenService({
    db: deps.db,
    issuer: deps.issuer,
    authenticator,
    throttle,
    audit,
    service: config.token.service,
    refreshIdleSeconds: config.refreshTokens.idleSeconds,
    signIn: oidc && { codes: new OidcStore(deps.db), refreshMaxAgeSeconds: oidc.refreshMaxAgeSeconds },
  });
  const operations = new AdminOperations({ db: deps.db, bcryptCost: config.bcryptCost, keys: deps.keys, accessTokenMaxLifetimeSeconds: config.accessTokens?.maxLifetimeSeconds });
  const gate = new AdminGate(authenticator, deps.keys, config.token);

  const app = new Koa();
  app.on('error', (err: Error, ctx?: Context) => {
    deps.logger.debug({ err: { message: err.message }, requestId: ctx?.state.requestId }, 'response ended early');
  });
  app.use(errorRenderer(deps.logger));
  app.use(requestId());
  app.use(clientAddress(new ClientAddressResolver(config.http.trustedProxies, config.http.proxyHeader)));
  app.use(accessLog(deps.logger));
  app.use(notFoundAsJson);
  if (deps.metrics) {
    app.use(httpMetrics(deps.metrics));
    app.use(metricsEndpoint(deps.metrics));
    app.use(tokenMetrics(deps.metrics));
  }
  app.use(tokenEndpoint(tokens));
  const open = publicRoutes(deps.db, deps.keys);
  mountTokenRoutes(open, tokens);
  app.use(open.routes()).use(open.allowedMethods({ throw: true }));
  if (oidc) {
    const sso = oidcRouter(new SignInFlow({ db: deps.db, config: oidc, bcryptCost: config.bcryptCost, audit }), cookieOptionsFor(oidc.redirectUrl));
    app.use(sso.routes()).use(sso.allowedMethods({ throw: true }));
  }
  const admin = adminRouter(operations, gate);
  app.use(admin.routes()).use(admin.allowedMethods({ throw: true }));
  return app;
}
