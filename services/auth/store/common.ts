/**
 * Helpers every auth store shares: the query target (database or transaction), row value
 * normalisation across SQLite and PostgreSQL, and constraint-violation detection.
 */
import type { Knex } from 'knex';

/** Where a store method runs its queries: the database, or a transaction the caller holds. */
export type Queryable = Knex | Knex.Transaction;

/** True when `db` talks to PostgreSQL (else SQLite), for the few statements the dialects need differently. */
export function isPostgres(db: Queryable): boolean {
  return (db.client.config as { client?: unknown }).client === 'pg';
}

/** BIGINT columns arrive as strings from pg and numbers from better-sqlite3. */
export function toMillis(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Nullable BIGINT column to number or null. */
export function toMillisOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toMillis(value);
}

/** Booleans arrive as 0/1 from SQLite and true/false from PostgreSQL. */
export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

/** True when `err` is a UNIQUE (or primary key) violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
