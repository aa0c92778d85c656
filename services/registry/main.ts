/**
 * The registry process: configuration (YAML file from `--config`/DOCKYARD_CONFIG plus
 * environment), storage, metadata and access control wired into the app, an HTTP(S)
 * listener, a purge of abandoned uploads and crash leftovers at start and hourly, background
 * garbage collection, and a graceful stop on SIGTERM/SIGINT.
 * `npm run registry` runs this file (as a cluster with DOCKYARD_WORKERS > 1, see
 * shared/process/cluster.ts); the combined launcher reuses `startRegistryService`.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { runService } from '../../shared/process/cluster.js';
import { loosePermissionWarnings, sqliteFiles } from '../../shared/process/private-files.js';
import { configFileFrom, loadRegistryConfig, openRegistryWarning, type RegistryConfig } from '../../shared/config/index.js';
import { openDatabase } from '../../shared/db/index.js';
import { PgAdvisoryMutex } from '../../shared/db/advisory-mutex.js';
import { clusterMutex } from '../../shared/process/cluster-mutex.js';
import { preflightRegistry } from '../../shared/config/preflight.js';
import { createLogger, type Logger } from '../../shared/observability/logger.js';
import { createMetricsRegistry, type Registry } from '../../shared/observability/metrics.js';
import { serve } from '../../shared/http/serve.js';
import type { KeyResolver } from '../../shared/crypto/token-verifier.js';
import { createServer, loadTlsOptions } from '../../shared/http/tls.js';
import { createApp } from './app.js';
import { createAccessController } from './auth/index.js';
import { createCollector, gcSettings, retentionOf } from './lifecycle/index.js';
import { scheduleGc } from './lifecycle/gc-schedule.js';
import { GcRuns } from './lifecycle/gc-runs.js';
import { BlobTrash } from './lifecycle/gc-trash.js';
import { PullTimes } from './lifecycle/pull-times.js';
import { KnexMetadataStore } from './metadata/knex-store.js';
import { createNotifications, startDispatcher } from './notifications/index.js';
import { BlobStore } from './storage/blobs.js';
import { storageFor } from './storage/drivers/for-config.js';
import { UploadManager } from './storage/uploads.js';

/** In-flight requests get this long to finish after a stop begins. */
const SHUTDOWN_DEADLINE_MS = 10_000;
/** Headers must arrive within this time (slow-loris); bodies are bounded by the idle timeout instead. */
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const PURGE_INTERVAL_MS = 60 * 60_000;
/** Advisory-lock namespace of upload sessions ('upld'): apart from any other lock in the database. */
const UPLOAD_LOCK_NAMESPACE = 0x75706c64;
/** A storage temporary file this old belongs to no write in progress (those take seconds). */
const TEMPORARY_FILE_MAX_AGE_MS = 60 * 60_000;

/** Options for startRegistryService. */
export interface StartRegistryOptions {
  logger?: Logger;
  /** Metrics registry to record into and serve at /metrics (default: a new one for this service). */
  metrics?: Registry;
  /** An extra trusted token key source (the in-process auth service's keys under `npm start`). */
  keys?: KeyResolver;
  /** Shorter connection timeouts than the defaults (tests watch slow clients being cut off). */
  timeouts?: { headersMs?: number; idleMs?: number };
  /** The database is already migrated (a cluster primary did it): only open it. */
  prepared?: boolean;
  /** Run the hourly purge of abandoned uploads here (default true; one cluster worker does). */
  housekeeping?: boolean;
}

/** A started registry: where it listens and how to stop it. */
export interface RunningRegistry {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to 10 s), then closes the database. */
  close(): Promise<void>;
}


/**
 * The one-time work of a cluster primary: check the TLS files (one clear error instead of
 * every worker failing) and migrate the database.
 */
export async function prepareRegistryService(config: RegistryConfig): Promise<void> {
  if (config.http.tls) loadTlsOptions(config.http.tls, 'registry.http.tls');
  const metadata = await KnexMetadataStore.open(config.database);
  await metadata.close();
}

/**
 * What a start checks before anything listens (files, directories, database, port), with
 * the configured settings that have no effect logged as warnings.
 */
export async function preflightRegistryService(config: RegistryConfig, logger: Logger): Promise<void> {
  const notes = await preflightRegistry(config);
  for (const warning of [...(config.warnings ?? []), ...notes]) logger.warn(warning);
}

/** Wires and starts the registry for `config`. */
export async function startRegistryService(config: RegistryConfig, options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const logger = options.logger ?? createLogger({ name: 'registry', level: config.log?.level });
  const storage = storageFor(config);
  // On PostgreSQL, replicas on several hosts may share the store: sessions lock in the database.
  const sessionLocks = config.database.client === 'pg' ? new PgAdvisoryMutex(config.database.connection, UPLOAD_LOCK_NAMESPACE) : undefined;
  const metadata = options.prepared ? new KnexMetadataStore(openDatabase(config.database)) : await KnexMetadataStore.open(config.database);
  try {
    const access = await createAccessController(config.auth, logger, { keys: options.keys });
    const blobs = new BlobStore(storage);
    const uploads = new UploadManager(storage, blobs, sessionLocks ?? clusterMutex());
    const metrics = options.metrics ?? createMetricsRegistry('registry');
    const notifications = createNotifications(metadata.db, config.dataDir, logger);
    const pullTimes = new PullTimes(metadata.db, logger).start();
    // Runs started over the admin API count in the same registry_gc_* series as the schedule's (gcMetrics registers them once).
    const gcRuns = new GcRuns(() => createCollector(config, { metadata, storage, blobs, logger, metrics }), logger, metadata.db);
    const app = createApp(config, { storage, metadata, access, logger, blobs, uploads, metrics, notifications, pullTimes, gcRuns });
    // createServer turns Node's whole-request timeout off (a large layer upload outlasts it)
    // and drops connections idle for 5 minutes instead; headers still have to be quick.
    const server = createServer(app.callback(), config.http, {
      tlsKeyName: 'registry.http.tls',
      headersTimeoutMs: options.timeouts?.headersMs ?? HEADERS_TIMEOUT_MS,
      idleTimeoutMs: options.timeouts?.idleMs,
    }) as Server;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

    const purge = async () => {
      try {
        const purged = await uploads.purgeOlderThan(config.uploads.purgeAfterSeconds * 1000);
        if (purged > 0) logger.info({ purged }, 'purged abandoned uploads');
        const swept = (await storage.sweepTemporaryFiles?.(TEMPORARY_FILE_MAX_AGE_MS)) ?? 0;
        if (swept > 0) logger.info({ swept }, 'removed temporary files left by a crash');
      } catch (err) {
        logger.error({ err }, 'upload purge failed');
      }
    };
    const purgeTimer = options.housekeeping === false ? undefined : setInterval(purge, PURGE_INTERVAL_MS);
    const { intervalSeconds } = gcSettings(config);
    const gcSchedule =
      options.housekeeping === false || intervalSeconds === 0
        ? undefined
        : scheduleGc(createCollector(config, { metadata, storage, blobs, logger, metrics }), intervalSeconds, logger, () => retentionOf(metadata).run());
    // One process per host delivers (the one doing housekeeping); replicas on PostgreSQL share the work by leases.
    const dispatcher =
      options.housekeeping === false
        ? undefined
        : await startDispatcher(notifications, { configured: config.notifications?.endpoints ?? [], dataDir: config.dataDir, metadata, logger, metrics });
    if (purgeTimer) {
      purgeTimer.unref();
      void purge();
      // Blobs a collector moved aside when the host went down may be referenced again after
      // a power cut rolled the database back: put them back now, not at the next GC run.
      void BlobTrash.of(storage, blobs)
        ?.restore(logger)
        .catch((err: unknown) => logger.error({ err }, 'putting back the garbage collector trash failed'));
    }

    const { url, close } = await serve(server, config.http, {
      logger,
      deadlineMs: SHUTDOWN_DEADLINE_MS,
      onClose: async () => {
        clearInterval(purgeTimer);
        await gcSchedule?.stop();
        await gcRuns.stop();
        await notifications.recorder.flush();
        await dispatcher?.stop();
        await pullTimes.close();
        await metadata.close();
        await sessionLocks?.close();
      },
    });
    logger.info({ url, storage: storage.name, auth: config.auth.kind, readOnly: config.readOnly }, 'listening');
    return { server, url, close };
  } catch (err) {
    await metadata.close();
    await sessionLocks?.close();
    throw err;
  }
}

/** What must stay the owner's alone: the data directory, the registry's part of it, its database. */
export function registryPrivatePaths(config: RegistryConfig): string[] {
  return [config.dataDir, join(config.dataDir, 'registry'), ...sqliteFiles(config.database)];
}

let loaded: RegistryConfig | undefined;
const configured = (): RegistryConfig => (loaded ??= loadRegistryConfig({ file: configFileFrom(process.argv.slice(2)) }));

runService('registry', import.meta.url, {
  workers: () => configured().workers ?? 1,
  directories: () => [{ service: 'registry', dataDir: configured().dataDir }],
  async prepare() {
    const config = configured();
    const logger = createLogger({ name: 'registry', level: config.log?.level });
    await preflightRegistryService(config, logger);
    await prepareRegistryService(config);
    return logger;
  },
  async start({ prepared, housekeeping }) {
    const config = configured();
    const logger = createLogger({ name: 'registry', level: config.log?.level });
    if (!prepared) await preflightRegistryService(config, logger);
    const running = await startRegistryService(config, { logger, prepared, housekeeping });
    const open = openRegistryWarning(config);
    return { logger, close: running.close, warnings: [...(open ? [open] : []), ...loosePermissionWarnings(registryPrivatePaths(config))] };
  },
});
