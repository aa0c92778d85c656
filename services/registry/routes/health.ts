/**
 * `/healthz` (the process answers) and `/readyz` (storage and metadata answer), outside
 * /v2 and its authentication, for load balancers and orchestrators. Failure reasons go to
 * the log, not the response.
 */
import type { Context, Next } from 'koa';
import type { RegistryServices } from './context.js';

async function probe(check: () => Promise<void>, services: RegistryServices, component: string): Promise<'ok' | 'unavailable'> {
  try {
    await check();
    return 'ok';
  } catch (err) {
    services.logger.warn({ err, component }, 'readiness check failed');
    return 'unavailable';
  }
}

/** Koa middleware answering the two health endpoints; other paths pass to `next`. */
export function healthRoutes(services: RegistryServices) {
  return async function serveHealth(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/healthz' && ctx.path !== '/readyz') return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    ctx.state.routeTemplate = ctx.path;
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz') {
      ctx.status = 200;
      ctx.body = { status: 'ok' };
      return;
    }
    const [storage, metadata] = await Promise.all([
      probe(() => services.storage.ping(), services, 'storage'),
      probe(() => services.metadata.ping(), services, 'metadata'),
    ]);
    const ready = storage === 'ok' && metadata === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks: { storage, metadata } };
  };
}
