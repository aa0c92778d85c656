/**
 * The databases hostile-input tests run against: a SQLite file in a temp dir, and
 * PostgreSQL on a fresh schema (dropped afterwards) when the server answers. PostgreSQL
 * matters here because it refuses inputs SQLite takes silently (NUL characters, values
 * longer than a column), so a missing check shows up as a 500 only there.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../shared/db/index.js';
import { POSTGRES_URL, postgresAdminQuery as onPostgres, postgresUnavailable } from '../support/postgres.js';
export { POSTGRES_URL, postgresUnavailable };



/** A database for one service, and how to get rid of it. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  config: DatabaseConfig;
  drop(): Promise<void>;
}



/** A SQLite file inside `dir` (removed with the dir). */
export function sqliteDatabase(dir: string, name: string): TestDatabase {
  return { kind: 'sqlite', config: { client: 'sqlite', filename: join(dir, `${name}.sqlite`) }, drop: async () => undefined };
}

/** A new PostgreSQL schema named after this process and a random suffix. */
export async function postgresDatabase(label: string): Promise<TestDatabase> {
  const schema = `dockyard_security_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onPostgres(`create schema "${schema}"`);
  return {
    kind: 'postgres',
    config: { client: 'pg', connection: POSTGRES_URL, schema },
    drop: () => onPostgres(`drop schema if exists "${schema}" cascade`),
  };
}

/**
 * The database kinds to run a suite on: always SQLite; PostgreSQL when it answers. Without
 * PostgreSQL the suite reports why it skipped it, and under CI that is a failure instead.
 */
export async function databaseKinds(): Promise<Array<{ kind: 'sqlite' | 'postgres'; skip?: string }>> {
  const unavailable = await postgresUnavailable();
  if (unavailable === null) return [{ kind: 'sqlite' }, { kind: 'postgres' }];
  if (process.env.CI) throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable under CI: ${unavailable}`);
  return [{ kind: 'sqlite' }, { kind: 'postgres', skip: `PostgreSQL at ${POSTGRES_URL} unreachable (${unavailable}); set CI=1 to make this a failure` }];
}
