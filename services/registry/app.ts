/**
 * The registry's Koa application: the OCI Distribution API v1.1 plus the Docker Registry
 * V2 extras clients use. It is assembled from its dependencies and never listens; main.ts
 * (or a test) decides where it runs.
 *
 * Middleware, outermost first: error renderer → request id → client address → access log → (metrics) →
 * API version header → read-only guard → health endpoints → /v2 dispatcher → JSON 404.
 */
import Koa, { type Context, type Next } from 'koa';
import type { RegistryConfig } from '../../shared/config/index.js';
import { DockyardError, fail } from '../../shared/http/errors.js';
import type { Logger } from '../../shared/observability/logger.js';
import { activeUploadsGauge, httpMetrics, metricsEndpoint, type Registry } from '../../shared/observability/metrics.js';
import { accessLog } from '../../shared/http/middleware/access-log.js';
import { ClientAddressResolver } from '../../shared/http/client-address.js';
import { clientAddress } from '../../shared/http/middleware/client-address.js';
import { errorRenderer } from '../../shared/http/middleware/errors.js';
import { requestId } from '../../shared/http/middleware/request-id.js';
import type { AccessController } from './auth/controller.js';
import { lineageRoutes } from './events/index.js';
import { BrowseStore } from './browse/store.js';
import { GcStore } from './lifecycle/gc-store.js';
import { GcRuns } from './lifecycle/gc-runs.js';
import { createCollector, gcSettings } from './lifecycle/index.js';
import { PullTimes } from './lifecycle/pull-times.js';
import { Retention } from './lifecycle/retention.js';
import { PushGuard } from './lifecycle/push-guard.js';
import { QuotaGuard, QuotaStore } from './lifecycle/quotas.js';
import { TagRuleStore } from './lifecycle/rules-store.js';
import { TagRuleGuard } from './lifecycle/tag-rule-guard.js';
import type { KnexMetadataStore } from './metadata/knex-store.js';
import { createNotifications, type Notifications } from './notifications/index.js';
import type { RegistryServices } from './routes/context.js';
import { healthRoutes } from './routes/health.js';
import { registryRoutes } from './routes/index.js';
import { BlobStore } from './storage/blobs.js';
import type { StorageDriver } from './storage/driver.js';
import { UploadManager } from './storage/uploads.js';

/** What the registry app is built from; blobs and uploads are made from `storage` when absent. */
export interface RegistryDeps {
  storage: StorageDriver;
  metadata: KnexMetadataStore;
  access: AccessController;
  logger: Logger;
  blobs?: BlobStore;
  uploads?: UploadManager;
  /** When set, HTTP metrics and the active upload gauge are recorded here and served at /metrics. */
  metrics?: Registry;
  /** The notification parts (main.ts shares them with the dispatcher); made from `metadata` when absent. */
  notifications?: Notifications;
  /** Where manifest pulls are noted for retention by pulls; main.ts passes one it flushes at shutdown. */
  pullTimes?: PullTimes;
  /** Garbage collection runs started over the admin API; main.ts passes the one it stops at shutdown. */
  gcRuns?: GcRuns;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED']);

/**
 * Every response, errors included, names the API version (clients probe for it) and tells
 * browsers not to guess a content type (a pushed blob must never render as a page).
 */
async function apiVersionHeader(ctx: Context, next: Next): Promise<void> {
  ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
  ctx.set('X-Content-Type-Options', 'nosniff');
  await next();
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

/** Keeps the upload gauge at the number of sessions this process has open after each request. */
function uploadGauge(metrics: Registry, uploads: UploadManager) {
  const gauge = activeUploadsGauge(metrics);
  return async function trackUploads(_ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } finally {
      gauge.set(uploads.activeCount);
    }
  };
}

/** Builds the registry application. */
export function createApp(config: RegistryConfig, deps: RegistryDeps): Koa {
  const blobs = deps.blobs ?? new BlobStore(deps.storage);
  const locks = new GcStore(deps.metadata.db);
  const quotaStore = new QuotaStore(deps.metadata.db);
  const pushGuard = new PushGuard(deps.metadata, locks, blobs, new QuotaGuard(quotaStore, locks, deps.logger, deps.metrics), gcSettings(config).graceSeconds * 1000);
  const ruleStore = new TagRuleStore(deps.metadata.db);
  const tagRules = new TagRuleGuard(deps.metadata, ruleStore, locks);
  const services: RegistryServices = {
    config,
    storage: deps.storage,
    metadata: deps.metadata,
    blobs,
    uploads: deps.uploads ?? new UploadManager(deps.storage, blobs),
    logger: deps.logger,
    pushGuard,
    tagRules,
    ruleStore,
    quotas: quotaStore,
    browse: new BrowseStore(deps.metadata.db),
    notifications: deps.notifications ?? createNotifications(deps.metadata.db, config.dataDir, deps.logger),
    pullTimes: deps.pullTimes ?? new PullTimes(deps.metadata.db, deps.logger).start(),
    retention: new Retention(deps.metadata.db, deps.metadata, ruleStore, locks),
    gcRuns: deps.gcRuns ?? new GcRuns(() => createCollector(config, { metadata: deps.metadata, storage: deps.storage, blobs, logger: deps.logger, metrics: deps.metrics }), deps.logger, deps.metadata.db),
  };
  const app = new Koa();
  // Errors after the headers went out land here: usually a client hanging up mid-download,
  // which is routine; anything else (a failing disk) deserves a warning.
  app.on('error', (err: Error & { code?: string }, ctx?: Context) => {
    const routine = err.code !== undefined && CLIENT_GONE.has(err.code);
    deps.logger[routine ? 'debug' : 'warn']({ err, requestId: ctx?.state.requestId }, 'response stream failed');
  });
  app.use(errorRenderer(deps.logger));
  app.use(requestId());
  app.use(clientAddress(new ClientAddressResolver(config.http.trustedProxies, config.http.proxyHeader)));
  app.use(accessLog(deps.logger));
  if (deps.metrics) {
    app.use(httpMetrics(deps.metrics));
    app.use(metricsEndpoint(deps.metrics));
    app.use(uploadGauge(deps.metrics, services.uploads));
  }
  app.use(apiVersionHeader);
  app.use(readOnlyGuard(config.readOnly));
  app.use(healthRoutes(services));
  app.use(registryRoutes(services, deps.access));
  app.use(lineageRoutes(services, deps.access));
  app.use(async (ctx) => {
    throw fail('NOT_FOUND', 'not found', { path: ctx.path.slice(0, 200) });
  });
  return app;
}
