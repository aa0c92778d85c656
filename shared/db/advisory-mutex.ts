/**
 * Per-key mutual exclusion across every process and host that shares one PostgreSQL
 * database, with session-level advisory locks: what keeps two registry replicas from
 * appending to one upload session at the same offset. A lock lives as long as the
 * PostgreSQL connection that took it, so a replica that dies (even by SIGKILL) frees its
 * keys as soon as the server sees the connection close; TCP keepalive bounds that for a
 * host that vanishes without closing it.
 *
 * Locks use their own small pool, not the metadata pool: a lock is held for a whole
 * request body (a layer upload can take minutes), which must not starve metadata queries.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { KeyMutex } from '../process/cluster-mutex.js';

/** The advisory-lock key is (namespace, 32-bit hash of the key); a hash collision only serialises two keys. */
export function lockIdOf(key: string): number {
  return createHash('sha256').update(key).digest().readInt32BE(0);
}

/** Most connections one process holds for locks: concurrent requests beyond it wait for one. */
const DEFAULT_MAX_CONNECTIONS = 32;

export class PgAdvisoryMutex implements KeyMutex {
  private readonly pool: pg.Pool;

  /** `namespace`: an int4 telling this lock family apart from any other advisory locks in the database. */
  constructor(
    connectionString: string,
    private readonly namespace: number,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  ) {
    this.pool = new pg.Pool({
      connectionString,
      max: maxConnections,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle pooled connection that breaks is dropped by the pool; nothing was locked on it.
    this.pool.on('error', () => undefined);
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const args = [this.namespace, lockIdOf(key)];
    try {
      await client.query('select pg_advisory_lock($1, $2)', args);
    } catch (err) {
      client.release(true);
      throw err;
    }
    try {
      return await task();
    } finally {
      // A failed unlock means the connection is gone, and the lock with it: never pool it again.
      const unlocked = await client.query('select pg_advisory_unlock($1, $2)', args).then(
        () => true,
        () => false,
      );
      client.release(!unlocked);
    }
  }

  async tryRun<T>(key: string, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = await this.pool.connect();
    const args = [this.namespace, lockIdOf(key)];
    let locked: boolean;
    try {
      locked = (await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, $2) as locked', args)).rows[0]!.locked;
    } catch (err) {
      client.release(true);
      throw err;
    }
    if (!locked) {
      client.release();
      return { ran: false };
    }
    try {
      return { ran: true, value: await task() };
    } finally {
      const unlocked = await client.query('select pg_advisory_unlock($1, $2)', args).then(
        () => true,
        () => false,
      );
      client.release(!unlocked);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
