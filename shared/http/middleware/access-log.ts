/**
 * One pino JSON line per request, written when the response has been sent (or the client
 * went away). It records what operators need and nothing a client sent beyond the method
 * and path: no query string (GET /token carries account and scopes there), no headers,
 * no bodies. The client address is the one shared/http/client-address.ts resolved, so a
 * forwarding header counts only from a trusted proxy.
 */
import type { Context, Next } from 'koa';
import type { Logger } from '../../observability/logger.js';
import { clientAddressOf } from './client-address.js';
import { onExchangeEnd, routeTemplateOf, trackBodyBytes } from './exchange.js';

/** The fields of one access log line. */
export interface AccessLogEntry {
  requestId?: string;
  method: string;
  route: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** The client's address (behind trusted proxies, the one they forwarded). */
  client: string;
  user?: string;
  aborted?: true;
}

/** Koa middleware writing one `request` log line per request to `logger`. */
export function accessLog(logger: Logger) {
  return async function logAccess(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const bytes = trackBodyBytes(ctx.req, ctx.res);
    onExchangeEnd(ctx.res, (aborted) => {
      const subject: unknown = ctx.state.subject;
      const requestId: unknown = ctx.state.requestId;
      const entry: AccessLogEntry = {
        requestId: typeof requestId === 'string' ? requestId : undefined,
        method: ctx.method,
        route: routeTemplateOf(ctx),
        path: ctx.path,
        status: ctx.res.statusCode,
        bytesIn: bytes.in,
        bytesOut: bytes.out,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3,
        client: clientAddressOf(ctx),
        user: typeof subject === 'string' ? subject : undefined,
      };
      if (aborted) entry.aborted = true;
      const level = entry.status >= 500 ? 'error' : 'info';
      logger[level](entry, 'request');
    });
    await next();
  };
}
