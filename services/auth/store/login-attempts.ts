/**
 * Login attempts, kept in SQL so every replica throttles on the same counts. One row per
 * attempt, with the account (NULL for a name no account can have) and the client address:
 * the per (account, address), per address and per account counters are counts over the
 * same rows. A row is written BEFORE the password is checked (`reserve`), in a transaction
 * that first counts, so concurrent attempts cannot all pass the count: SQLite transactions
 * take the write lock at BEGIN, PostgreSQL ones take advisory locks on the account and the
 * address. A success deletes its own row; rows older than the window are purged.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { isPostgres, toMillis, type Queryable } from './common.js';

const ACCOUNT_MAX = 140;
const ADDRESS_MAX = 64;

function clip(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

/** Times (ascending) of the attempts in the window that concern one login. */
export interface AttemptCounts {
  /** This account from this address. */
  pair: number[];
  /** Any account from this address. */
  address: number[];
  /** This account from any address (empty when there is no account). */
  account: number[];
}

/** A 64-bit advisory lock key for `text` (the first 8 bytes of its SHA-256, signed). */
function lockKey(text: string): bigint {
  return createHash('sha256').update(text).digest().readBigInt64BE(0);
}

/** The login_attempts table. */
export class LoginAttemptStore {
  constructor(private readonly db: Knex) {}

  /**
   * In one transaction: counts the attempts after `since` for (account, address), lets
   * `decide` look at them, and unless it refuses (returns false) records a new attempt at
   * `now` and purges rows before `purgeBefore`. Returns the new attempt's id, or null when
   * refused. Concurrent calls for the same account or address run one after the other.
   */
  async reserve(
    login: { account: string | null; address: string; now: number; since: number; purgeBefore: number },
    decide: (counts: AttemptCounts) => boolean,
  ): Promise<string | null> {
    const account = login.account === null ? null : clip(login.account, ACCOUNT_MAX);
    const address = clip(login.address, ADDRESS_MAX);
    return this.db.transaction(async (trx) => {
      if (isPostgres(trx)) {
        // Serialises attempts sharing an account or an address, on every replica; sorted so
        // two attempts never wait for each other's second lock. The rows are throttle state,
        // not worth a synchronous flush.
        const keys = [lockKey(`address:${address}`), ...(account === null ? [] : [lockKey(`account:${account}`)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const key of keys) await trx.raw('select pg_advisory_xact_lock(?::bigint)', [key.toString()]);
        await trx.raw('set local synchronous_commit = off');
      }
      const counts = await this.counts(trx, account, address, login.since);
      if (!decide(counts)) return null;
      const attempt = randomBytes(16).toString('hex');
      await trx('login_attempts').insert({ attempt, account, address, at: login.now });
      await trx('login_attempts').where('at', '<', login.purgeBefore).delete();
      return attempt;
    });
  }

  private async counts(trx: Queryable, account: string | null, address: string, since: number): Promise<AttemptCounts> {
    const rows: Array<{ account: string | null; address: string; at: unknown }> = await trx('login_attempts')
      .select('account', 'address', 'at')
      .where((w) => {
        w.where('address', address);
        if (account !== null) w.orWhere('account', account);
      })
      .andWhere('at', '>', since)
      .orderBy('at', 'asc');
    const counts: AttemptCounts = { pair: [], address: [], account: [] };
    for (const row of rows) {
      const at = toMillis(row.at);
      const sameAccount = account !== null && row.account === account;
      if (row.address === address) counts.address.push(at);
      if (sameAccount) counts.account.push(at);
      if (sameAccount && row.address === address) counts.pair.push(at);
    }
    return counts;
  }

  /** After a successful login: forgets the attempt and the account's earlier failures from that address. */
  async succeeded(attempt: string, account: string, address: string): Promise<void> {
    await this.db('login_attempts')
      .where({ attempt })
      .orWhere((w) => w.where({ account: clip(account, ACCOUNT_MAX), address: clip(address, ADDRESS_MAX) }))
      .delete();
  }

  /** Forgets every attempt on an account, from every address (an admin's unlock); returns how many. */
  async clearAccount(account: string, trx?: Queryable): Promise<number> {
    return (trx ?? this.db)('login_attempts').where({ account: clip(account, ACCOUNT_MAX) }).delete();
  }
}
