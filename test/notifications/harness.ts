/**
 * A registry for the notification tests, started the way main.ts starts it
 * (startRegistryService: the app, the outbox and the background dispatcher) on 127.0.0.1:0
 * over a temp directory and SQLite or a fresh PostgreSQL schema, with the given endpoints
 * in its configuration. The image helpers come from the lifecycle harness.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryConfig } from '../../shared/config/index.js';
import { parseNotificationEndpoint } from '../../shared/config/notifications.js';
import type { DatabaseConfig } from '../../shared/db/index.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { runCli } from '../../services/auth/cli.js';
import { startRegistryService } from '../../services/registry/main.js';
import { POSTGRES_URL, postgresAdminQuery } from '../support/postgres.js';

export type Dialect = 'sqlite' | 'postgres';

export interface NotifyRegistry {
  url: string;
  dir: string;
  config: RegistryConfig;
  env: Record<string, string>;
  close(): Promise<void>;
  /** Stops the registry (a clean stop) and starts it again on the same database and data. */
  restart(): Promise<void>;
  /** `npm run admin -- ARGV` against this registry's database. */
  admin(argv: string[]): Promise<{ code: number; out: string; err: string }>;
}

/** A database for one test: a temp SQLite file or a new PostgreSQL schema (dropped by `drop`). */
export async function testDatabase(dialect: Dialect, dir: string): Promise<{ database: DatabaseConfig; url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const filename = join(dir, 'registry.sqlite');
    return { database: { client: 'sqlite', filename }, url: `sqlite:${filename}`, drop: async () => undefined };
  }
  const schema = `dockyard_notify_${process.pid}_${randomBytes(6).toString('hex')}`;
  await postgresAdminQuery(`create schema "${schema}"`);
  return {
    database: { client: 'pg', connection: POSTGRES_URL, schema },
    url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => postgresAdminQuery(`drop schema if exists "${schema}" cascade`),
  };
}

/** The configuration of a test registry in `dir`; `endpoints` are written as in a config file. */
export function registryConfig(dir: string, database: DatabaseConfig, endpoints: unknown[] = []): RegistryConfig {
  return {
    http: { host: '127.0.0.1', port: 0 },
    dataDir: dir,
    storage: { driver: 'filesystem', rootDirectory: join(dir, 'blobs') },
    database,
    auth: { kind: 'none' },
    readOnly: false,
    uploads: { purgeAfterSeconds: 3600 },
    limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: 1000 },
    gc: { graceSeconds: 3600, intervalSeconds: 0, deleteUntagged: false },
    notifications: { endpoints: endpoints.map((e, i) => parseNotificationEndpoint(e, `endpoints[${i}]`)) },
  };
}

export async function startNotifyRegistry(dialect: Dialect, endpoints: unknown[] = []): Promise<NotifyRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'dockyard-notify-'));
  const { database, url: databaseUrl, drop } = await testDatabase(dialect, dir);
  const config = registryConfig(dir, database, endpoints);
  let running = await startRegistryService(config, { logger: silentLogger() });
  const env = { DOCKYARD_DATA_DIR: dir, REGISTRY_DATABASE_URL: databaseUrl, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'blobs') };
  const registry: NotifyRegistry = {
    url: running.url,
    dir,
    config,
    env,
    async restart() {
      await running.close();
      running = await startRegistryService(config, { logger: silentLogger() });
      registry.url = running.url;
    },
    async close() {
      await running.close();
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
    async admin(argv) {
      let out = '';
      let err = '';
      const code = await runCli(argv, { ...process.env, ...env }, { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
      return { code, out, err };
    },
  };
  return registry;
}
