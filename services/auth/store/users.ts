/** Users: name, bcrypt hash, admin and disabled flags. */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { SqliteReads, type PreparedRead } from '../../../shared/db/sqlite-reads.js';
import { isPostgres, isUniqueViolation, toBool, toMillis, type Queryable } from './common.js';

/** A stored user. The hash never leaves the service (toPublic drops it). */
export interface UserRecord {
  id: number;
  name: string;
  passwordHash: string;
  admin: boolean;
  disabled: boolean;
  passwordChangedAt: number;
  createdAt: number;
  /** Moved on by every password change and disabling (see CredentialStamp). */
  credentialVersion: number;
}

/** A user as the admin API and CLI show it. */
export type PublicUser = Omit<UserRecord, 'passwordHash' | 'id' | 'credentialVersion'>;

interface UserRow {
  id: number;
  name: string;
  password_hash: string;
  admin: unknown;
  disabled: unknown;
  password_changed_at: unknown;
  created_at: unknown;
  credential_version: unknown;
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
    credentialVersion: Number(row.credential_version),
  };
}

/** Drops the hash and internal id. */
export function toPublicUser(user: UserRecord): PublicUser {
  const { passwordHash: _hash, id: _id, credentialVersion: _version, ...rest } = user;
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

  /**
   * Changes flags or the password hash; false when there is no such user. A new password
   * or disabling also moves the credential version on, which ends the refresh tokens
   * issued before, even one a concurrent login inserts after this commit.
   */
  async update(
    name: string,
    patch: { admin?: boolean; disabled?: boolean; passwordHash?: string; passwordChangedAt?: number },
    trx?: Queryable,
  ): Promise<boolean> {
    const q = trx ?? this.db;
    const values: Record<string, unknown> = {};
    if (patch.passwordHash !== undefined || patch.disabled === true) values.credential_version = q.raw('credential_version + 1');
    if (patch.admin !== undefined) values.admin = patch.admin;
    if (patch.disabled !== undefined) values.disabled = patch.disabled;
    if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
    if (patch.passwordChangedAt !== undefined) values.password_changed_at = patch.passwordChangedAt;
    if (Object.keys(values).length === 0) return (await this.find(name, trx)) !== null;
    const changed = await q('users').where({ name }).update(values);
    return changed > 0;
  }

  /**
   * Stores a new hash of the same password (a rehash at another bcrypt cost) unless the
   * hash changed meanwhile (a concurrent password change wins). The credential version
   * stays: the password did not change.
   */
  async replaceHash(id: number, oldHash: string, newHash: string, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('users').where({ id, password_hash: oldHash }).update({ password_hash: newHash });
  }

  /**
   * The enabled admins, locked until the end of `trx` on PostgreSQL (FOR UPDATE), so two
   * concurrent demotions or disables see each other's outcome instead of both counting two
   * admins. SQLite transactions already run one at a time (BEGIN IMMEDIATE).
   */
  async lockActiveAdmins(trx: Knex.Transaction): Promise<string[]> {
    const q = trx('users').where({ admin: true, disabled: false }).orderBy('id').select('name');
    const rows: Array<{ name: string }> = await (isPostgres(trx) ? q.forUpdate() : q);
    return rows.map((r) => r.name);
  }

  /** Deletes a user (memberships go with it); false when there is no such user. */
  async delete(name: string, trx?: Queryable): Promise<boolean> {
    const changed = await (trx ?? this.db)('users').where({ name }).delete();
    return changed > 0;
  }
}
