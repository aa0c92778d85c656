/**
 * Failed login attempts, kept in SQL so every replica throttles on the same counts. One
 * row per failure and counter (account and client address); rows older than the window
 * are useless and are purged as new ones arrive.
 */
import type { Knex } from 'knex';
import { toMillis, type Queryable } from './common.js';

/** Which counter a failure feeds. */
export type FailureKeyKind = 'account' | 'address';

/** A counter: the attempted account name or the client address. */
export interface FailureKey {
  kind: FailureKeyKind;
  key: string;
}

const KEY_MAX = 140;

function clip(key: string): string {
  return key.length > KEY_MAX ? key.slice(0, KEY_MAX) : key;
}

/** The key under which failuresSince reports a counter: `account:alice`, `address:10.0.0.1`. */
export function failureKeyId(key: FailureKey): string {
  return `${key.kind}:${clip(key.key)}`;
}

/** The login_failures table. */
export class LoginFailureStore {
  constructor(private readonly db: Knex) {}

  /** Records one failure at `now` on each key, and drops rows older than `purgeBefore`. */
  async record(keys: readonly FailureKey[], now: number, purgeBefore: number, trx?: Queryable): Promise<void> {
    const q = trx ?? this.db;
    await q('login_failures').insert(keys.map((k) => ({ key_kind: k.kind, key: clip(k.key), at: now })));
    await q('login_failures').where('at', '<', purgeBefore).delete();
  }

  /** Times of failures after `since` for each key (by failureKeyId), ascending, in one query. */
  async failuresSince(keys: readonly FailureKey[], since: number, trx?: Queryable): Promise<Map<string, number[]>> {
    const result = new Map<string, number[]>(keys.map((k) => [failureKeyId(k), []]));
    if (keys.length === 0) return result;
    const rows = await (trx ?? this.db)('login_failures')
      .select('key_kind', 'key', 'at')
      .where((w) => {
        for (const k of keys) w.orWhere((s) => s.where('key_kind', k.kind).andWhere('key', clip(k.key)));
      })
      .andWhere('at', '>', since)
      .orderBy('at', 'asc');
    for (const row of rows as Array<{ key_kind: string; key: string; at: unknown }>) {
      result.get(failureKeyId({ kind: row.key_kind as FailureKeyKind, key: row.key }))?.push(toMillis(row.at));
    }
    return result;
  }

  /** Forgets the failures of one key (a successful login resets its account counter). */
  async clear(key: FailureKey, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('login_failures').where({ key_kind: key.kind, key: clip(key.key) }).delete();
  }
}
