/**
 * Database factory and migrations for both services. A database is a URL-ish config:
 * SQLite (default, a file under the data dir) or PostgreSQL; knex makes the dialect a
 * config value. Migrations live in migrations/<service>/*.ts with `up` and `down`.
 */
import { readdirSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';

export type { Knex };

/** Where a service keeps its tables. */
export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'pg'; connection: string; schema?: string };

const MIGRATIONS_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** Opens a knex instance. SQLite gets WAL and a busy timeout so readers never block writers. */
export function openDatabase(config: DatabaseConfig): Knex {
  if (config.client === 'sqlite') {
    if (config.filename !== ':memory:') mkdirSync(dirname(config.filename), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            conn.pragma('journal_mode = WAL');
            conn.pragma('synchronous = FULL');
            conn.pragma('busy_timeout = 5000');
            conn.pragma('foreign_keys = ON');
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
  }
  return knexFactory({
    client: 'pg',
    connection: config.connection,
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

function migratorConfig(service: 'auth' | 'registry'): Knex.MigratorConfig {
  // Each service has its own bookkeeping table, so both may share one database.
  return {
    migrationSource: new DirectoryMigrationSource(join(MIGRATIONS_ROOT, service)),
    tableName: `knex_migrations_${service}`,
  };
}

/** Runs the migrations of one service (`auth` or `registry`) up to the latest. */
export async function migrateLatest(db: Knex, service: 'auth' | 'registry'): Promise<void> {
  await db.migrate.latest(migratorConfig(service));
}

/** Rolls back every migration of one service (used by tests that check `down`). */
export async function migrateRollbackAll(db: Knex, service: 'auth' | 'registry'): Promise<void> {
  await db.migrate.rollback(migratorConfig(service), true);
}
