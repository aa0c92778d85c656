/**
 * The registry's Koa application: the OCI Distribution API v1.1 plus the Docker Registry
 * V2 extras clients use. It is assembled from its dependencies and never listens; main.ts
 * (or a test) decides where it runs.
 *
 * Middleware, outermost first: error renderer → request id and API version header →
 * read-only guard → health endpoints → /v2 dispatcher → 404.
 */
import { randomUUID } from 'node:crypto';
import Koa, { type Context, type Next } from 'koa';
import type { RegistryConfig } from '../../shared/config.js';
import { DockyardError, fail } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { errorRenderer } from '../../shared/middleware/errors.js';
import type { AccessController } from './auth/controller.js';
import type { MetadataStore } from './metadata/store.js';
import type { RegistryServices } from './routes/context.js';
import { healthRoutes } from './routes/health.js';
import { registryRoutes } from './routes/index.js';
import { BlobStore } from './storage/blobs.js';
import type { StorageDriver } from './storage/driver.js';
import { UploadManager } from './storage/uploads.js';

/** What the registry app is built from; blobs and uploads are made from `storage` when absent. */
export interface RegistryDeps {
  storage: StorageDriver;
  metadata: MetadataStore;
  access: AccessController;
  logger: Logger;
  blobs?: BlobStore;
  uploads?: UploadManager;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Tags the request with an id (the caller's X-Request-Id when sane) and every response with the API version. */
function requestIdentity(logger: Logger) {
  return async function identify(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
    const started = process.hrtime.bigint();
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } catch (err) {
      // Rendered by the outer error middleware; its status is known already.
      if (err instanceof DockyardError) status = err.status;
      throw err;
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.debug({ requestId, method: ctx.method, path: ctx.path, status, ms }, 'request');
    }
  };
}

/** Refuses every write to /v2 when the registry runs read-only; reads keep working. */
function readOnlyGuard(readOnly: boolean) {
  return async function guardWrites(ctx: Context, next: Next): Promise<void> {
    if (readOnly && !SAFE_METHODS.has(ctx.method) && (ctx.path === '/v2' || ctx.path.startsWith('/v2/'))) {
      throw new DockyardError('UNSUPPORTED', 'registry is in read-only mode', { status: 405 });
    }
    await next();
  };
}

/** Builds the registry application. */
export function createApp(config: RegistryConfig, deps: RegistryDeps): Koa {
  const blobs = deps.blobs ?? new BlobStore(deps.storage);
  const services: RegistryServices = {
    config,
    storage: deps.storage,
    metadata: deps.metadata,
    blobs,
    uploads: deps.uploads ?? new UploadManager(deps.storage, blobs),
    logger: deps.logger,
  };
  const app = new Koa();
  // Errors after the headers went out (a client hanging up mid-download) land here.
  app.on('error', (err: Error & { code?: string }, ctx?: Context) => {
    deps.logger.debug({ err: { message: err.message, code: err.code }, requestId: ctx?.state.requestId }, 'response stream ended early');
  });
  app.use(errorRenderer(deps.logger));
  app.use(requestIdentity(deps.logger));
  app.use(readOnlyGuard(config.readOnly));
  app.use(healthRoutes(services));
  app.use(registryRoutes(services, deps.access));
  app.use(async (ctx) => {
    throw fail('NOT_FOUND', 'not found', { path: ctx.path.slice(0, 200) });
  });
  return app;
}
