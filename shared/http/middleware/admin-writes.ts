/**
 * Cross-site request forgery guard for the admin APIs (the auth service's, and the
 * registry's lifecycle endpoints). A browser that holds an admin's
 * Basic credentials (or, later, a web UI session) sends them with any request a hostile
 * page makes, but a page can only send "simple" requests cross-site without a CORS
 * preflight (which this service never answers): form and text/plain bodies, no custom
 * headers. So every state-changing request must declare `Content-Type: application/json`
 * (also with an empty body), and one that a browser marks as coming from another site
 * (`Sec-Fetch-Site`, `Origin`) is refused outright. It runs before authentication, so a
 * forged request never even counts as a login attempt against the throttle.
 */
import type { Context, Next } from 'koa';
import { fail } from '../errors.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `Sec-Fetch-Site` values that mean the request did not come from another site's page. */
const OWN_SITE = new Set(['same-origin', 'none']);

/** Throws for a cross-site (403 DENIED) or non-JSON (415 UNSUPPORTED) state-changing request. */
export function assertAdminWrite(ctx: Context): void {
  if (STATE_CHANGING.has(ctx.method)) {
    const site = ctx.get('sec-fetch-site');
    if (site !== '' && !OWN_SITE.has(site)) {
      throw fail('DENIED', `cross-site admin API requests are refused (Sec-Fetch-Site: ${site.slice(0, 20)})`);
    }
    const origin = ctx.get('origin');
    // Koa's ctx.origin is this very header (Koa 3), so our own origin is spelled out.
    if (origin !== '' && origin !== `${ctx.protocol}://${ctx.host}`) {
      throw fail('DENIED', 'cross-origin admin API requests are refused: the Origin header names another site');
    }
    // The header itself, not ctx.is(): that answers null for a request without a body.
    if (ctx.request.type !== 'application/json') {
      throw fail('UNSUPPORTED', 'state-changing admin API requests need Content-Type: application/json, also when the body is empty');
    }
  }
}

/** assertAdminWrite as middleware, in front of a whole admin API. */
export async function guardAdminWrites(ctx: Context, next: Next): Promise<void> {
  assertAdminWrite(ctx);
  await next();
}
