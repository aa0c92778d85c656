/** Users: name, bcrypt hash, admin and disabled flags. */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { SqliteReads, type PreparedRead } from '../../../shared/db/sqlite-reads.js';
import { isUniqueViolation, toBool, toMillis, type Queryable } from './common.js';

/** A stored user. The hash never leaves the service (toPublic drops it). */
export interface UserRecord {
  id: number;
  name: string;
  passwordHash: string;
  admin: boolean;
  disabled: boolean;
  passwordChangedAt: number;
  createdAt: number;
}

/** A user as the admin API and CLI show it. */
export type PublicUser = Omit<UserRecord, 'passwordHash' | 'id'>;

interface UserRow {
  id: number;
  name: string;
  password_hash: string;
  admin: unknown;
  disabled: unknown;
  password_changed_at: unknown;
  created_at: unknown;
}

function fromRow(row: UserRow): UserRecord {
  return {
    id: Number(row.id),
    name: row.name,
    passwordHash: row.password_hash,
    admin: toBool(row.admin),
    disabled: toBool(row.disabled),
    passwordChangedAt: toMillis(row.password_changed_at),
    createdAt: toMillis(row.created_at),
  };
}

/** Drops the hash and internal id. */
export function toPublicUser(user: UserRecord): PublicUser {
  const { passwordHash: _hash, id: _id, ...rest } = user;
  return rest;
}

/** The users table. */
export class UserStore {
  /**
   * The lookup every token request makes, prepared once on SQLite (see shared/db/sqlite-reads.ts).
   * Without knex's `.first()`: its bound `LIMIT ?` makes SQLite re-prepare the statement on
   * every call, and the name is unique anyway.
   */
  private readonly byName: PreparedRead<[string]> | null;

  constructor(private readonly db: Knex) {
    this.byName = SqliteReads.forKnex(db)?.prepare(['string'], (q, name: string) => q('users').where({ name })) ?? null;
  }

  /** The user called `name`, or null. */
  async find(name: string, trx?: Queryable): Promise<UserRecord | null> {
    const row = this.byName && !trx ? this.byName.get<UserRow>(name) : await (trx ?? this.db)<UserRow>('users').where({ name }).first();
    return row ? fromRow(row) : null;
  }

  /** Every user, by name. */
  async list(trx?: Queryable): Promise<UserRecord[]> {
    const rows = await (trx ?? this.db)<UserRow>('users').orderBy('name');
    return rows.map(fromRow);
  }

  /** Number of users (bootstrap creates the first admin when this is 0). */
  async count(trx?: Queryable): Promise<number> {
    const row = await (trx ?? this.db)('users').count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /** Number of admins that are not disabled (the last one may not be removed). */
  async countActiveAdmins(trx?: Queryable): Promise<number> {
    const row = await (trx ?? this.db)('users').where({ admin: true, disabled: false }).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /** Inserts a user; CONFLICT when the name is taken. */
  async insert(user: { name: string; passwordHash: string; admin: boolean; now: number }, trx?: Queryable): Promise<UserRecord> {
    try {
      await (trx ?? this.db)('users').insert({
        name: user.name,
        password_hash: user.passwordHash,
        admin: user.admin,
        disabled: false,
        password_changed_at: user.now,
        created_at: user.now,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw fail('CONFLICT', `user ${user.name} already exists`);
      throw err;
    }
    const created = await this.find(user.name, trx);
    if (!created) throw new Error(`user ${user.name} vanished after insert`);
    return created;
  }

  /** Changes flags or the password hash; false when there is no such user. */
  async update(
    name: string,
    patch: { admin?: boolean; disabled?: boolean; passwordHash?: string; passwordChangedAt?: number },
    trx?: Queryable,
  ): Promise<boolean> {
    const values: Record<string, unknown> = {};
    if (patch.admin !== undefined) values.admin = patch.admin;
    if (patch.disabled !== undefined) values.disabled = patch.disabled;
    if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
    if (patch.passwordChangedAt !== undefined) values.password_changed_at = patch.passwordChangedAt;
    if (Object.keys(values).length === 0) return (await this.find(name, trx)) !== null;
    const changed = await (trx ?? this.db)('users').where({ name }).update(values);
    return changed > 0;
  }

  /** Deletes a user (memberships go with it); false when there is no such user. */
  async delete(name: string, trx?: Queryable): Promise<boolean> {
    const changed = await (trx ?? this.db)('users').where({ name }).delete();
    return changed > 0;
  }
}
