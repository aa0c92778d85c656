/**
 * X-Request-Id in and out. A caller's id is kept only when it is a short, plain token, so
 * it can go into logs and headers without escaping; anything else gets a fresh UUID.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

/** The response (and accepted request) header. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's id when it is safe to echo and log, else undefined. */
export function safeRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && SAFE_REQUEST_ID.test(value) ? value : undefined;
}

/** Koa middleware: sets ctx.state.requestId and the X-Request-Id response header. */
export function requestId() {
  return async function assignRequestId(ctx: Context, next: Next): Promise<void> {
    const id = safeRequestId(ctx.req.headers['x-request-id']) ?? randomUUID();
    ctx.state.requestId = id;
    ctx.set(REQUEST_ID_HEADER, id);
    await next();
  };
}
