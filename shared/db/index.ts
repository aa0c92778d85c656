/**
 * Database factory and migrations for both services. A database is a URL-ish config:
 * SQLite (default, a file under the data dir) or PostgreSQL; knex makes the dialect a
 * config value. Migrations live in migrations/<service>/*.ts with `up` and `down`.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { SqliteReads } from './sqlite-reads.js';
import { WalSync } from './wal-sync.js';

export type { Knex };

/** Where a service keeps its tables. */
export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'pg'; connection: string; schema?: string };

const MIGRATIONS_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** Makes `destroy()` also close the prepared-read connection a store may have opened on the file. */
function closingReadsOnDestroy(db: Knex): Knex {
  // knex.destroy() is a read-only property that forwards to its client's destroy().
  const client = db.client as { destroy(callback?: unknown): Promise<unknown> };
  const destroy = client.destroy.bind(client);
  client.destroy = (callback?: unknown) => {
    SqliteReads.closeFor(db);
    return destroy(callback);
  };
  return db;
}

/**
 * A PostgreSQL server that stops answering (a network partition, a hung host) must fail
 * requests, as 503s a client retries, instead of holding them for as long as TCP takes to
 * notice: connecting and every query get a deadline. Every query the services run is an
 * index lookup or a short write, far below it.
 */
const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;
const POSTGRES_QUERY_TIMEOUT_MS = 10_000;

/** The part of knex's transaction object that starts it on a connection (not in knex's types). */
interface StartableTransaction {
  begin(connection: unknown): Promise<unknown>;
}

/**
 * Makes every SQLite transaction of `db` take the write lock at BEGIN (BEGIN IMMEDIATE).
 * knex sends a deferred BEGIN: the transaction reads, then upgrades to a writer at its first
 * write, and when another connection (the admin CLI next to the auth service) wrote or is
 * writing meanwhile, that upgrade fails with SQLITE_BUSY at once: the busy timeout never
 * waits, and an ordinary concurrent change becomes a 503. An immediate transaction waits
 * its turn instead. Nested transactions are savepoints and never call begin.
 */
function beginningImmediate(db: Knex): Knex {
  const client = db.client as { transaction: (...args: unknown[]) => StartableTransaction };
  const create = client.transaction.bind(client);
  client.transaction = (...args: unknown[]) => {
    const trx = create(...args);
    // Safe to replace here: knex calls begin only after acquiring a connection, asynchronously.
    // Sent on the raw connection, not through trx.query: a failed trx.query ends the
    // transaction, and a busy BEGIN is retried (retryingWhileBusy).
    trx.begin = (connection) => retryingWhileBusy(async () => (connection as SqliteConnection).exec('BEGIN IMMEDIATE'));
    return trx;
  };
  return db;
}

/** The part of a better-sqlite3 connection the BEGIN needs. */
interface SqliteConnection {
  exec(sql: string): unknown;
}

/**
 * How long one attempt may wait for another connection's write lock: not at all.
 * better-sqlite3 runs statements synchronously, so SQLite's busy wait freezes the event
 * loop: every other request of this process waits with it. The waiting between attempts
 * happens on a timer instead (retryingWhileBusy). With 10 ms here, a registry beside a
 * running `gc run` (which holds the lock for 10-20 ms at a time) spent 300 of every 1,000 ms
 * frozen in that wait; with none, 20 (docs/performance.md, "fifth round").
 */
const SQLITE_BUSY_TIMEOUT_MS = 0;
/** How long a statement keeps retrying while the database stays locked before it fails (503). */
const SQLITE_BUSY_DEADLINE_MS = 5_000;
/**
 * Retries start 1 ms apart and are never more than this apart: a failed attempt costs
 * microseconds, and a longer gap would let the lock go to another process and back unseen.
 */
const SQLITE_BUSY_BACKOFF_MAX_MS = 8;

function isBusy(err: unknown): boolean {
  return /^SQLITE_BUSY/.test((err as { code?: unknown } | null)?.code as string ?? '');
}

let busyWaits = 0;

/** How often a statement of this process waited for a locked SQLite database (a metric). */
export function sqliteBusyWaits(): number {
  return busyWaits;
}

/**
 * Runs `attempt` until it is not refused as busy, backing off on a timer, up to the deadline.
 * Every write to an SQLite database must reach the lock through here: with no busy wait in
 * SQLite itself, a write outside it fails at once whenever another process holds the lock.
 */
export async function retryingWhileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SQLITE_BUSY_DEADLINE_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, SQLITE_BUSY_BACKOFF_MAX_MS)) {
    try {
      return await attempt();
    } catch (err) {
      if (!isBusy(err) || Date.now() + delay > deadline) throw err;
      busyWaits += 1;
      await sleep(delay);
    }
  }
}

/** Retries the statements knex runs outside transactions the same way (a write in autocommit mode). */
function retryingStatementsWhileBusy(db: Knex): Knex {
  const client = db.client as { _query(connection: unknown, query: unknown): Promise<unknown> };
  const run = client._query.bind(client);
  client._query = (connection, query) => retryingWhileBusy(() => run(connection, query));
  return db;
}

/**
 * Creates the database file owner-only (0600, in a 0700 directory) before SQLite opens it:
 * it holds password and refresh-token hashes. SQLite gives its -wal and -shm files the
 * mode of the database file, so they follow. An existing file keeps its mode (the start
 * warns when it is loose, shared/process/private-files.ts).
 */
function createPrivately(filename: string): void {
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  closeSync(openSync(filename, 'a', 0o600));
}

/** How an SQLite commit reaches the disk (PostgreSQL ignores this: its server syncs). */
export interface OpenDatabaseOptions {
  /**
   * `inline` (default): every commit fsyncs its log before returning, blocking the event
   * loop meanwhile. `deferred`: commits return without a sync and the caller must await
   * `walSyncOf(db).flush()` before acknowledging a write (see wal-sync.ts). Only for
   * callers that do so on every write path.
   */
  commitSync?: 'inline' | 'deferred';
}

const walSyncs = new WeakMap<Knex, WalSync>();

/**
 * The log sync a caller of a `commitSync: 'deferred'` database must await after each
 * commit; null when commits sync themselves (inline, PostgreSQL, in-memory SQLite).
 */
export function walSyncOf(db: Knex): WalSync | null {
  return walSyncs.get(db) ?? null;
}

/**
 * Opens a knex instance. SQLite gets WAL (readers never block writers) and waits for a
 * locked database without blocking the event loop (retryingWhileBusy).
 */
export function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Knex {
  if (config.client === 'sqlite') {
    const onDisk = config.filename !== ':memory:';
    if (onDisk && config.filename.startsWith('file:')) mkdirSync(dirname(config.filename), { recursive: true });
    else if (onDisk) createPrivately(config.filename);
    // A `file:` URI names its file indirectly; such a database keeps inline syncs.
    const deferred = onDisk && !config.filename.startsWith('file:') && options.commitSync === 'deferred';
    const db = retryingStatementsWhileBusy(beginningImmediate(closingReadsOnDestroy(knexFactory({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            conn.pragma('journal_mode = WAL');
            conn.pragma(deferred ? 'synchronous = NORMAL' : 'synchronous = FULL');
            conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
            conn.pragma('foreign_keys = ON');
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    }))));
    if (deferred) walSyncs.set(db, new WalSync(config.filename));
    return db;
  }
  return knexFactory({
    client: 'pg',
    connection: { connectionString: config.connection, connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS, query_timeout: POSTGRES_QUERY_TIMEOUT_MS },
    searchPath: config.schema ? [config.schema] : undefined,
    pool: { min: 0, max: 10 },
  });
}

class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    return readdirSync(this.dir)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(migration: string): string {
    return migration.replace(/\.(ts|js)$/, '');
  }
  async getMigration(migration: string): Promise<Knex.Migration> {
    return (await import(pathToFileURL(join(this.dir, migration)).href)) as Knex.Migration;
  }
}

function migratorConfig(service: 'auth' | 'registry' | 'web'): Knex.MigratorConfig {
  // Each service has its own bookkeeping table, so both may share one database.
  return {
    migrationSource: new DirectoryMigrationSource(join(MIGRATIONS_ROOT, service)),
    tableName: `knex_migrations_${service}`,
  };
}

/** How long a replica waits for another one's migrations before giving up. */
const MIGRATION_WAIT_MS = 15 * 60_000;

/**
 * Runs the migrations of one service (`auth` or `registry`) up to the latest. On
 * PostgreSQL, replicas starting at once take turns: knex's own lock is a row in a table
 * that the first run creates, so two runs on an empty database both create that table and
 * one fails. A transaction-level advisory lock per service and schema, held on a
 * connection of its own (polled, so a long migration elsewhere outlasts no query timeout),
 * makes the later replica wait and then find nothing left to do.
 */
export async function migrateLatest(db: Knex, service: 'auth' | 'registry' | 'web'): Promise<void> {
  const config = db.client.config as { client?: unknown; searchPath?: unknown };
  if (config.client !== 'pg') {
    await db.migrate.latest(migratorConfig(service));
    return;
  }
  const key = createHash('sha256').update(`dockyard migrate ${service} ${JSON.stringify(config.searchPath ?? null)}`).digest().readBigInt64BE(0);
  await db.transaction(async (trx) => {
    const deadline = Date.now() + MIGRATION_WAIT_MS;
    for (;;) {
      const { rows } = await trx.raw<{ rows: Array<{ locked: boolean }> }>('select pg_try_advisory_xact_lock(?::bigint) as locked', [key.toString()]);
      if (rows[0]?.locked) break;
      if (Date.now() > deadline) throw new Error(`another process has been migrating the ${service} database for ${MIGRATION_WAIT_MS / 60_000} minutes`);
      await sleep(200);
    }
    await db.migrate.latest(migratorConfig(service));
  });
}

/** Rolls back every migration of one service (used by tests that check `down`). */
export async function migrateRollbackAll(db: Knex, service: 'auth' | 'registry' | 'web'): Promise<void> {
  await db.migrate.rollback(migratorConfig(service), true);
}
