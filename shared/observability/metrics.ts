/**
 * Prometheus metrics. Each service owns its own Registry (never prom-client's global
 * one), so two services in one process (tests, the all-in-one start) do not collide.
 * HTTP metrics are labelled by route template, never by raw path, to keep cardinality
 * bounded whatever clients request.
 *
 * Suggested order: errorRenderer(), requestId(), accessLog(), httpMetrics(),
 * metricsEndpoint(), router. Logs and metrics record when the response ends, so they see
 * the status the error renderer chose on either side of it; metricsEndpoint() answers
 * without calling on, so only middleware before it counts scrapes.
 */
import type { Context, Next } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { sqliteBusyWaits } from '../db/index.js';
import { onExchangeEnd, routeTemplateOf, trackBodyBytes } from '../http/middleware/exchange.js';

export { Registry };

/** A fresh registry for one service; every series carries `service="<name>"`. */
export function createMetricsRegistry(service: string, options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  new Counter({
    name: 'sqlite_busy_waits_total',
    help: 'Times a SQLite statement of this process found the database locked by another connection and waited for it.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sqliteBusyWaits());
    },
  });
  return registry;
}

/** Returns the metric already registered under `name`, or registers the one `create` makes. */
function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

// Seconds; blob transfers of large layers run far past typical API latencies.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Koa middleware recording count, latency and body bytes of every request. */
export function httpMetrics(registry: Registry) {
  const requests = once(registry, 'http_requests_total', () =>
    new Counter({ name: 'http_requests_total', help: 'HTTP requests by route template, method and status.', labelNames: ['route', 'method', 'status'], registers: [registry] }),
  );
  const duration = once(registry, 'http_request_duration_seconds', () =>
    new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request start until the response was sent, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
  );
  const bytesIn = once(registry, 'http_request_body_bytes_total', () =>
    new Counter({ name: 'http_request_body_bytes_total', help: 'Request body bytes read, by route template and method.', labelNames: ['route', 'method'], registers: [registry] }),
  );
  const bytesOut = once(registry, 'http_response_body_bytes_total', () =>
    new Counter({ name: 'http_response_body_bytes_total', help: 'Response body bytes written, by route template and method.', labelNames: ['route', 'method'], registers: [registry] }),
  );

  return async function recordHttpMetrics(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const bytes = trackBodyBytes(ctx.req, ctx.res);
    onExchangeEnd(ctx.res, () => {
      const route = routeTemplateOf(ctx);
      const method = ctx.method;
      const status = String(ctx.res.statusCode);
      requests.inc({ route, method, status });
      duration.observe({ route, method, status }, Number(process.hrtime.bigint() - started) / 1e9);
      bytesIn.inc({ route, method }, bytes.in);
      bytesOut.inc({ route, method }, bytes.out);
    });
    await next();
  };
}

/** Koa middleware answering GET/HEAD `path` with the registry in Prometheus text format. */
export function metricsEndpoint(registry: Registry, path = '/metrics') {
  return async function serveMetrics(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.state.routeTemplate = path;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
}

/** Gauge of blob uploads in progress; the registry increments on start and decrements on commit/cancel/purge. */
export function activeUploadsGauge(registry: Registry): Gauge {
  return once(registry, 'registry_uploads_active', () =>
    new Gauge({ name: 'registry_uploads_active', help: 'Blob upload sessions in progress.', registers: [registry] }),
  );
}

/** What became of a token request, the `outcome` label of tokensIssuedCounter. */
export type TokenOutcome = 'issued' | 'anonymous' | 'refreshed' | 'unauthorized' | 'invalid_request' | 'error';

/** Counter of token requests by outcome, registered by the auth service. */
export function tokensIssuedCounter(registry: Registry): Counter<'outcome'> {
  return once(registry, 'auth_tokens_issued_total', () =>
    new Counter({ name: 'auth_tokens_issued_total', help: 'Token requests by outcome.', labelNames: ['outcome'], registers: [registry] }),
  );
}

/** Records one token request outcome. */
export function recordTokenOutcome(counter: Counter<'outcome'>, outcome: TokenOutcome): void {
  counter.inc({ outcome });
}

/** The auth service's token metrics: requests by grant type and result, login failures, throttling, latency. */
export interface TokenRequestMetrics {
  requests: Counter<'grant_type' | 'result'>;
  loginFailures: Counter<'grant_type'>;
  throttled: Counter<'grant_type'>;
  duration: Histogram<'grant_type'>;
}

// Seconds; a token request is a bcrypt check (tens of ms at cost 10) plus one ES256 signature.
const TOKEN_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Registers (once) the metrics of /token requests. */
export function tokenRequestMetrics(registry: Registry): TokenRequestMetrics {
  const grant = ['grant_type'] as const;
  return {
    requests: once(registry, 'auth_token_requests_total', () =>
      new Counter({ name: 'auth_token_requests_total', help: 'Token requests by grant type (anonymous, basic, password, refresh_token, unsupported) and result.', labelNames: ['grant_type', 'result'], registers: [registry] }),
    ),
    loginFailures: once(registry, 'auth_login_failures_total', () =>
      new Counter({ name: 'auth_login_failures_total', help: 'Token requests refused for wrong credentials or an invalid refresh token (401), by grant type.', labelNames: grant, registers: [registry] }),
    ),
    throttled: once(registry, 'auth_throttled_requests_total', () =>
      new Counter({ name: 'auth_throttled_requests_total', help: 'Token requests refused by login throttling (429), by grant type.', labelNames: grant, registers: [registry] }),
    ),
    duration: once(registry, 'auth_token_request_duration_seconds', () =>
      new Histogram({ name: 'auth_token_request_duration_seconds', help: 'Time to answer a token request, by grant type.', labelNames: grant, buckets: TOKEN_DURATION_BUCKETS, registers: [registry] }),
    ),
  };
}
