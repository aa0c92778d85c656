/**
 * The registry process: configuration from the environment, storage, metadata and access
 * control wired into the app, an HTTP(S) listener, hourly purge of abandoned uploads, and
 * a graceful stop on SIGTERM/SIGINT. `npm run registry` runs this file; the combined
 * launcher reuses `startRegistryService`.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ConfigError, registryConfigFromEnv, type RegistryConfig } from '../../shared/config.js';
import { createLogger, type Logger } from '../../shared/logger.js';
import { createApp } from './app.js';
import { createAccessController } from './auth/index.js';
import { KnexMetadataStore } from './metadata/knex-store.js';
import { BlobStore } from './storage/blobs.js';
import type { StorageDriver } from './storage/driver.js';
import { FilesystemDriver } from './storage/drivers/filesystem.js';
import { MemoryDriver } from './storage/drivers/memory.js';
import { UploadManager } from './storage/uploads.js';

/** Headers must arrive within this time (slow-loris); bodies are bounded by the idle timeout instead. */
const HEADERS_TIMEOUT_MS = 30_000;
/** A connection with no bytes in either direction for this long is dropped; a slow upload keeps moving. */
const IDLE_SOCKET_TIMEOUT_MS = 5 * 60_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const SHUTDOWN_GRACE_MS = 10_000;
const PURGE_INTERVAL_MS = 60 * 60_000;

/** A started registry: where it listens and how to stop it. */
export interface RunningRegistry {
  server: Server;
  url: string;
  /** Stops accepting, waits up to 10 s for in-flight requests, then closes the database. */
  close(): Promise<void>;
}

function storageFor(config: RegistryConfig): StorageDriver {
  return config.storage.driver === 'memory' ? new MemoryDriver() : new FilesystemDriver(config.storage.rootDirectory);
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Closes the server, letting in-flight requests finish for up to SHUTDOWN_GRACE_MS. */
async function drain(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections become idle as their last request ends; close them as they do.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  try {
    await closed;
  } finally {
    clearInterval(sweeper);
    clearTimeout(deadline);
  }
}

/** Wires and starts the registry for `config`. */
export async function startRegistryService(config: RegistryConfig, options: { logger?: Logger } = {}): Promise<RunningRegistry> {
  const logger = options.logger ?? createLogger({ name: 'registry' });
  const storage = storageFor(config);
  const metadata = await KnexMetadataStore.open(config.database);
  try {
    const access = await createAccessController(config.auth, logger);
    const blobs = new BlobStore(storage);
    const uploads = new UploadManager(storage, blobs);
    const app = createApp(config, { storage, metadata, access, logger, blobs, uploads });
    const tls = config.http.tls;
    const server = tls
      ? createHttpsServer({ cert: readFileSync(tls.certificate), key: readFileSync(tls.key) }, app.callback())
      : createHttpServer(app.callback());
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    // Node's default (300 s for the whole request) would cut off a large layer upload.
    server.requestTimeout = 0;
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.setTimeout(IDLE_SOCKET_TIMEOUT_MS);

    const purge = async () => {
      try {
        const purged = await uploads.purgeOlderThan(config.uploads.purgeAfterSeconds * 1000);
        if (purged > 0) logger.info({ purged }, 'purged abandoned uploads');
      } catch (err) {
        logger.error({ err }, 'upload purge failed');
      }
    };
    const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS);
    purgeTimer.unref();
    void purge();

    const address = await listen(server, config.http.host, config.http.port);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
    logger.info({ url, storage: storage.name, auth: config.auth.kind, readOnly: config.readOnly }, 'listening');
    return {
      server,
      url,
      async close() {
        clearInterval(purgeTimer);
        await drain(server);
        await metadata.close();
        logger.info('stopped');
      },
    };
  } catch (err) {
    await metadata.close();
    throw err;
  }
}

async function main(): Promise<void> {
  let config: RegistryConfig;
  try {
    config = registryConfigFromEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ name: 'registry' });
  const running = await startRegistryService(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main().catch((err: unknown) => {
    process.stderr.write(`registry failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
