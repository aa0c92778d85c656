/**
 * Sets `ctx.state.clientAddress` once per request, before anything reads it, so
 * throttling, audit and the access log agree on who the client is (see
 * shared/http/client-address.ts for which forwarding headers are believed).
 */
import type { Context, Next } from 'koa';
import type { ClientAddressResolver } from '../client-address.js';

/** Koa middleware storing the resolved client address in `ctx.state.clientAddress`. */
export function clientAddress(resolver: ClientAddressResolver) {
  return async function resolveClientAddress(ctx: Context, next: Next): Promise<void> {
    ctx.state.clientAddress = resolver.resolve(ctx.req.socket.remoteAddress, ctx.req.headers);
    await next();
  };
}

/** The address set by the middleware; the TCP peer when the middleware did not run. */
export function clientAddressOf(ctx: Context): string {
  const resolved: unknown = ctx.state.clientAddress;
  return typeof resolved === 'string' ? resolved : (ctx.req.socket.remoteAddress ?? '');
}
