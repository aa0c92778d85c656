/**
 * The audit trail: who did what to which target, from where, with what outcome. Details
 * are JSON; callers never put passwords, secrets or tokens in them.
 */
import type { Knex } from 'knex';
import { retryingWhileBusy } from '../../../shared/db/index.js';
import { isPostgres, toMillis, type Queryable } from './common.js';

/** One audit entry as written. */
export interface AuditEntry {
  at: number;
  /** User or robot name, `cli`, or '' for anonymous. */
  actor: string;
  /** e.g. `token.issue`, `user.create`, `grant.remove`. */
  action: string;
  target: string;
  clientAddress: string;
  /** e.g. `ok`, `denied`, `throttled`. */
  outcome: string;
  details: Record<string, unknown>;
}

/** One audit entry as read back. */
export interface AuditRecord extends AuditEntry {
  id: number;
}

/** Filters for an audit query; `before` is the id cursor of the previous page. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: string;
  since?: number;
  until?: number;
  before?: number;
  limit: number;
}

interface AuditRow {
  id: unknown;
  at: unknown;
  actor: string;
  action: string;
  target: string;
  client_address: string;
  outcome: string;
  details: string;
}

const FIELD_MAX = { actor: 140, action: 64, target: 512, client_address: 64, outcome: 32 };

/** Fits a value into its column: cut to length, NUL (which PostgreSQL text cannot hold) made visible. */
function clip(value: string, max: number): string {
  return (value.length > max ? value.slice(0, max) : value).replaceAll('\u0000', '\uFFFD');
}

function toRow(entry: AuditEntry): Omit<AuditRow, 'id'> {
  return {
    at: entry.at,
    actor: clip(entry.actor, FIELD_MAX.actor),
    action: clip(entry.action, FIELD_MAX.action),
    target: clip(entry.target, FIELD_MAX.target),
    client_address: clip(entry.clientAddress, FIELD_MAX.client_address),
    outcome: clip(entry.outcome, FIELD_MAX.outcome),
    details: JSON.stringify(entry.details),
  };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { raw: text };
  }
}

function fromRow(row: AuditRow): AuditRecord {
  return {
    id: Number(row.id),
    at: toMillis(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    clientAddress: row.client_address,
    outcome: row.outcome,
    details: parseDetails(row.details),
  };
}

/** The slice of better-sqlite3's connection the deferred append uses. */
interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): { run(...params: unknown[]): unknown };
  transaction<A extends unknown[]>(fn: (...args: A) => void): SqliteTransaction<A>;
}

/** A better-sqlite3 transaction function: called plainly it begins DEFERRED. */
type SqliteTransaction<A extends unknown[]> = ((...args: A) => void) & { immediate(...args: A): void };

/**
 * What a deferred append runs, compiled once per connection: preparing the INSERT, the two
 * pragmas and the transaction wrapper again for every batch was a needless part of the
 * cost of each group commit.
 */
interface DeferredAppend {
  relaxSync: { run(): unknown };
  restoreSync: { run(): unknown };
  /** `.immediate` takes the write lock at BEGIN, where a busy database is refused before any row is written. */
  insertAll: SqliteTransaction<[rows: readonly Omit<AuditRow, 'id'>[]]>;
}

const INSERT_SQL = 'insert into audit (at, actor, action, target, client_address, outcome, details) values (?, ?, ?, ?, ?, ?, ?)';

const deferredAppends = new WeakMap<SqliteConnection, DeferredAppend>();

function deferredAppendOn(connection: SqliteConnection): DeferredAppend {
  let append = deferredAppends.get(connection);
  if (!append) {
    const insert = connection.prepare(INSERT_SQL);
    append = {
      relaxSync: connection.prepare('PRAGMA synchronous = NORMAL'),
      restoreSync: connection.prepare('PRAGMA synchronous = FULL'),
      insertAll: connection.transaction((rows: readonly Omit<AuditRow, 'id'>[]) => {
        for (const r of rows) insert.run(r.at, r.actor, r.action, r.target, r.client_address, r.outcome, r.details);
      }),
    };
    deferredAppends.set(connection, append);
  }
  return append;
}

/** knex's own connection handling, which the deferred append borrows to run several statements back to back. */
interface ConnectionPool<C> {
  acquireConnection(): Promise<C>;
  releaseConnection(connection: C): Promise<unknown>;
}

/** The audit table. */
export class AuditStore {
  private readonly dialect: 'sqlite' | 'pg';

  constructor(private readonly db: Knex) {
    this.dialect = isPostgres(db) ? 'pg' : 'sqlite';
  }

  /** Appends entries (one statement for the whole batch). */
  async append(entries: readonly AuditEntry[], trx?: Queryable): Promise<void> {
    if (entries.length === 0) return;
    await (trx ?? this.db)('audit').insert(entries.map(toRow));
  }

  /**
   * Appends entries in one transaction whose commit does not wait for the disk: the rows
   * survive a crash of this process at once (they are in the database's log) and a power
   * loss after the next sync (`syncDeferred`, or any ordinary commit). On SQLite that is
   * `synchronous = NORMAL` for this one commit: a full fsync per batch would block the event
   * loop for milliseconds on every token request. On PostgreSQL it is `synchronous_commit = off`.
   */
  async appendDeferred(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map(toRow);
    if (this.dialect === 'pg') {
      await this.db.transaction(async (trx) => {
        await trx.raw('set local synchronous_commit = off');
        await trx('audit').insert(rows);
      });
      return;
    }
    // The connection is given back between attempts, so this process's other statements
    // run while another process holds the write lock.
    await retryingWhileBusy(() =>
      this.withSqliteConnection((connection) => {
        const append = deferredAppendOn(connection);
        append.relaxSync.run();
        try {
          append.insertAll.immediate(rows);
        } finally {
          // Every other write on this connection keeps the fsync per commit that db.ts sets.
          append.restoreSync.run();
        }
      }),
    );
  }

  /** Makes deferred appends durable against power loss (a WAL checkpoint syncs the log); a no-op on PostgreSQL, which flushes on its own. */
  async syncDeferred(): Promise<void> {
    if (this.dialect === 'pg') return;
    await this.withSqliteConnection((connection) => {
      connection.pragma('wal_checkpoint(PASSIVE)');
    });
  }

  /** Runs `fn` on knex's SQLite connection with nothing else interleaved (better-sqlite3 is synchronous). */
  private async withSqliteConnection(fn: (connection: SqliteConnection) => void): Promise<void> {
    const pool = this.db.client as ConnectionPool<SqliteConnection>;
    const connection = await pool.acquireConnection();
    try {
      fn(connection);
    } finally {
      await pool.releaseConnection(connection);
    }
  }

  /** Entries matching `query`, newest first, at most `query.limit`. */
  async query(query: AuditQuery, trx?: Queryable): Promise<AuditRecord[]> {
    const q = (trx ?? this.db)<AuditRow>('audit').orderBy('id', 'desc').limit(query.limit);
    if (query.actor !== undefined) q.where('actor', query.actor);
    if (query.action !== undefined) q.where('action', query.action);
    if (query.target !== undefined) q.where('target', query.target);
    if (query.outcome !== undefined) q.where('outcome', query.outcome);
    if (query.since !== undefined) q.where('at', '>=', query.since);
    if (query.until !== undefined) q.where('at', '<', query.until);
    if (query.before !== undefined) q.where('id', '<', query.before);
    return (await q).map(fromRow);
  }
}
