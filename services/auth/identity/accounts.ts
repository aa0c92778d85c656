/**
 * Users rows that belong to a directory (migration 030): created on a first directory
 * sign-in with a random password no one knows, linked to their source and entry.
 */
import bcrypt from 'bcryptjs';
import type { Knex } from 'knex';
import { SqliteReads, type PreparedRead } from '../../../shared/db/sqlite-reads.js';
import { fail, isDockyardError } from '../../../shared/http/errors.js';
import { randomSecret } from '../secrets.js';
import { UserStore, type UserRecord } from '../store/users.js';

/** The cheapest bcrypt cost: the password is random and never checked. */
const UNUSABLE_HASH_COST = 4;

export class DirectoryAccountStore {
  private readonly users: UserStore;
  /** The lookup every user login and refresh makes, prepared once on SQLite (see shared/db/sqlite-reads.ts). */
  private readonly sourceById: PreparedRead<[number]> | null;

  constructor(private readonly db: Knex) {
    this.users = new UserStore(db);
    this.sourceById = SqliteReads.forKnex(db)?.prepare(['number'], (q, userId: number) => q('directory_accounts').where({ user_id: userId }).select('source')) ?? null;
  }

  /** The source a user's row is linked to, or null for a local user. */
  async sourceOf(userId: number): Promise<string | null> {
    const row: { source: string } | undefined = this.sourceById ? this.sourceById.get(userId) : await this.db('directory_accounts').where({ user_id: userId }).first('source');
    return row?.source ?? null;
  }

  /**
   * The users row of directory user `name`, created (with an unusable password) and
   * linked to `source` and `dn` when missing or local; the link's DN follows the entry.
   */
  async link(name: string, source: string, dn: string, now: number): Promise<UserRecord> {
    let user = await this.users.find(name);
    if (!user) {
      const passwordHash = await bcrypt.hash(randomSecret(), UNUSABLE_HASH_COST);
      try {
        user = await this.users.insert({ name, passwordHash, admin: false, now });
      } catch (err) {
        // A concurrent first sign-in of the same user created it.
        if (!isDockyardError(err) || err.code !== 'CONFLICT') throw err;
        user = await this.users.find(name);
      }
      if (!user) throw fail('CONFLICT', `user ${name} vanished while being created`);
    }
    const id = user.id;
    await this.db('directory_accounts').insert({ user_id: id, source, dn: dn.slice(0, 1024), linked_at: now }).onConflict('user_id').merge(['source', 'dn']);
    return user;
  }
}
