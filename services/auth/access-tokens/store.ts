/**
 * The access_tokens table (migration 040): personal access tokens by their public lookup
 * id, with only the SHA-256 of the whole token stored. A name is unique per user; creating
 * a token under the name of a revoked or expired one replaces it.
 */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { isUniqueViolation, toBool, toMillis, toMillisOrNull, type Queryable } from '../store/common.js';

/** A stored token. */
export interface AccessTokenRecord {
  id: number;
  lookupId: string;
  secretHash: string;
  userId: number;
  userName: string;
  name: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  revoked: boolean;
}

/** A token as its owner and admins see it (never the secret or its hash). */
export interface PublicAccessToken {
  name: string;
  user: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  revoked: boolean;
}

interface Row {
  id: unknown;
  lookup_id: string;
  secret_hash: string;
  user_id: unknown;
  user_name: string;
  name: string;
  created_at: unknown;
  expires_at: unknown;
  last_used_at: unknown;
  revoked: unknown;
}

function fromRow(row: Row): AccessTokenRecord {
  return {
    id: Number(row.id),
    lookupId: row.lookup_id,
    secretHash: row.secret_hash,
    userId: Number(row.user_id),
    userName: row.user_name,
    name: row.name,
    createdAt: toMillis(row.created_at),
    expiresAt: toMillis(row.expires_at),
    lastUsedAt: toMillisOrNull(row.last_used_at),
    revoked: toBool(row.revoked),
  };
}

/** Drops the lookup id, hash and internal ids. */
export function toPublicAccessToken(token: AccessTokenRecord): PublicAccessToken {
  return { name: token.name, user: token.userName, createdAt: token.createdAt, expiresAt: token.expiresAt, lastUsedAt: token.lastUsedAt, revoked: token.revoked };
}

function withUser(q: Queryable): Knex.QueryBuilder {
  return q('access_tokens as t')
    .join('users as u', 'u.id', 't.user_id')
    .select('t.id', 't.lookup_id', 't.secret_hash', 't.user_id', 'u.name as user_name', 't.name', 't.created_at', 't.expires_at', 't.last_used_at', 't.revoked');
}

/** Personal access tokens. */
export class AccessTokenStore {
  constructor(private readonly db: Knex) {}

  /** The token with this lookup id, or null. */
  async findByLookup(lookupId: string, trx?: Queryable): Promise<AccessTokenRecord | null> {
    const row = (await withUser(trx ?? this.db).where('t.lookup_id', lookupId).first()) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  /** A user's tokens by name (revoked and expired ones included). */
  async listForUser(userName: string, trx?: Queryable): Promise<AccessTokenRecord[]> {
    return ((await withUser(trx ?? this.db).where('u.name', userName).orderBy('t.name')) as Row[]).map(fromRow);
  }

  /** Tokens of a user still usable at `now`. */
  async countLive(userId: number, now: number, trx?: Queryable): Promise<number> {
    const row = await (trx ?? this.db)('access_tokens').where({ user_id: userId, revoked: false }).andWhere('expires_at', '>', now).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /** Stores a token; CONFLICT when the user has a live token of that name (a dead one is replaced). */
  async insert(token: { lookupId: string; secretHash: string; userId: number; name: string; now: number; expiresAt: number }, trx: Knex.Transaction): Promise<void> {
    await trx('access_tokens')
      .where({ user_id: token.userId, name: token.name })
      .andWhere((w) => w.where('revoked', true).orWhere('expires_at', '<=', token.now))
      .delete();
    try {
      await trx('access_tokens').insert({
        lookup_id: token.lookupId,
        secret_hash: token.secretHash,
        user_id: token.userId,
        name: token.name,
        created_at: token.now,
        expires_at: token.expiresAt,
        last_used_at: null,
        revoked: false,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw fail('CONFLICT', `you already have a personal access token named ${token.name}; revoke it first or choose another name`);
      throw err;
    }
  }

  /** Revokes a user's token by name; false when there is none (or it is revoked already). */
  async revoke(userId: number, name: string, trx?: Queryable): Promise<boolean> {
    return (await (trx ?? this.db)('access_tokens').where({ user_id: userId, name, revoked: false }).update({ revoked: true })) > 0;
  }

  /** Records a use at most once per `minIntervalMs`. */
  async touch(id: number, now: number, minIntervalMs: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('access_tokens')
      .where({ id })
      .andWhere((w) => w.whereNull('last_used_at').orWhere('last_used_at', '<', now - minIntervalMs))
      .update({ last_used_at: now });
  }
}
