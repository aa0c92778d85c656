/**
 * The PostgreSQL server the tests use (trust auth, database `test`; override with
 * DOCKYARD_TEST_POSTGRES_URL), and whether it answers. Suites that need it skip with the
 * reason locally and fail under CI.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';

export const POSTGRES_URL = process.env.DOCKYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when PostgreSQL answers, else why not. */
export async function postgresUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one administrative statement (create or drop a schema or database) on its own connection. */
export async function postgresAdminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * True when PostgreSQL answers, so the suite `name` can register its tests; otherwise it
 * registers one test in their place: failing under CI, skipped with the reason elsewhere.
 */
export async function postgresSuiteGate(name: string): Promise<boolean> {
  const reason = await postgresUnavailable();
  if (reason === null) return true;
  if (process.env.CI) test(`PostgreSQL is reachable for ${name}`, () => assert.fail(`PostgreSQL at ${POSTGRES_URL} is unreachable under CI: ${reason}`));
  else test(`${name}: postgres`, { skip: `PostgreSQL at ${POSTGRES_URL} unreachable (${reason}); set CI=1 to make this a failure` }, () => {});
  return false;
}
