/**
 * What the SQL-metacharacter suites share: the hostile strings (quotes, comments,
 * wildcards, NUL, over-long values), the databases to run on, and the "no server error"
 * checks. PostgreSQL refuses NUL and over-long values where SQLite shrugs, so a missing
 * check shows up there as a 500.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Reply } from '../../api/auth/harness.js';
import { postgresDatabase, sqliteDatabase, type TestDatabase } from '../databases.js';

const FRAGMENTS = [
  "'", '"', ';', '--', '/*', '*/', '#', '%', '_', '\\', '`', '$1', '?', ':name', ' OR 1=1', "' OR '1'='1", ') UNION SELECT * FROM users --',
  '; DROP TABLE tags; --', '\u0000', 'é', '\u2028', '\uFFFF', 'a', 'b', '0', '/', ':', ',', ' ', '*',
];

/** Strings built from SQL fragments, plus a few over-long ones. */
export const hostileStrings: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...FRAGMENTS), minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(300), "'".repeat(300), '\u0000'.repeat(10), 'a'.repeat(5000)) },
);

/** Cases every property run checks first, whatever the seed draws: NUL, too long for any column, classic injection. */
export const MUST_CHECK: Array<[string]> = [['\u0000'], ['a\u0000b'], ['x'.repeat(300)], ["' OR '1'='1"], ['; DROP TABLE users; --']];

/** A database of `kind` for `service`, created when the service starts. */
export async function databaseFor(kind: 'sqlite' | 'postgres', service: string): Promise<(dir: string) => TestDatabase> {
  if (kind === 'sqlite') return (dir) => sqliteDatabase(dir, service);
  const database = await postgresDatabase(service);
  return () => database;
}

/** Not a server error, and an error is the JSON envelope (405 comes from the router with Allow). */
export async function assertNoServerError(response: Response, what: string): Promise<void> {
  const text = await response.text();
  assert.ok(response.status < 500, `${what} → ${response.status} ${text.slice(0, 300)}`);
  if (response.status >= 400 && response.status !== 405) assert.match(text, /^\{"errors":\[\{"code":"[A-Z_]+"/, `${what} → ${text.slice(0, 200)}`);
}

/** The same for a reply from the auth API helpers. */
export function assertNoServerErrorReply(reply: Reply, what: string): void {
  assert.ok(reply.status < 500, `${what} → ${reply.status} ${reply.text.slice(0, 300)}`);
  if (reply.status >= 400) assert.ok(Array.isArray(reply.body.errors), `${what} → ${reply.text.slice(0, 200)}`);
}
