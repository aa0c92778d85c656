/** Groups of users and their memberships. */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { SqliteReads, type PreparedRead } from '../../../shared/db/sqlite-reads.js';
import { isUniqueViolation, toMillis, type Queryable } from './common.js';

/** A group with its members' names. */
export interface GroupRecord {
  name: string;
  members: string[];
  createdAt: number;
}

/** The names of the groups a user belongs to. */
function groupNamesQuery(db: Queryable, userId: number): Knex.QueryBuilder {
  return db('group_members as m').join('groups as g', 'g.id', 'm.group_id').where('m.user_id', userId).select('g.name as name');
}

/** The groups and group_members tables. */
export class GroupStore {
  /** The membership lookup every user token request makes, prepared once on SQLite. */
  private readonly namesByUser: PreparedRead<[number]> | null;

  constructor(private readonly db: Knex) {
    this.namesByUser = SqliteReads.forKnex(db)?.prepare(['number'], (q, userId: number) => groupNamesQuery(q, userId)) ?? null;
  }

  /** Every group with its members, by name. */
  async list(trx?: Queryable): Promise<GroupRecord[]> {
    const q = trx ?? this.db;
    const groups = await q('groups').select('id', 'name', 'created_at').orderBy('name');
    const members = await q('group_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .select('m.group_id', 'u.name')
      .orderBy('u.name');
    return groups.map((g: { id: number; name: string; created_at: unknown }) => ({
      name: g.name,
      members: members.filter((m: { group_id: number }) => Number(m.group_id) === Number(g.id)).map((m: { name: string }) => m.name),
      createdAt: toMillis(g.created_at),
    }));
  }

  /** One group with its members, or null. */
  async find(name: string, trx?: Queryable): Promise<GroupRecord | null> {
    const q = trx ?? this.db;
    const group = await q('groups').where({ name }).first();
    if (!group) return null;
    const members = await q('group_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where('m.group_id', group.id)
      .orderBy('u.name')
      .pluck('u.name');
    return { name: group.name, members, createdAt: toMillis(group.created_at) };
  }

  /** Names of the groups `userId` belongs to (one indexed query on the token path). */
  async namesForUser(userId: number, trx?: Queryable): Promise<string[]> {
    const rows: Array<{ name: string }> =
      this.namesByUser && !trx ? this.namesByUser.all(userId) : await groupNamesQuery(trx ?? this.db, userId);
    return rows.map((row) => row.name);
  }

  /** Creates a group; CONFLICT when the name is taken. */
  async insert(name: string, now: number, trx?: Queryable): Promise<void> {
    try {
      await (trx ?? this.db)('groups').insert({ name, created_at: now });
    } catch (err) {
      if (isUniqueViolation(err)) throw fail('CONFLICT', `group ${name} already exists`);
      throw err;
    }
  }

  /** Deletes a group and its memberships; false when there is no such group. */
  async delete(name: string, trx?: Queryable): Promise<boolean> {
    return (await (trx ?? this.db)('groups').where({ name }).delete()) > 0;
  }

  /** Adds a member; NOT_FOUND for an unknown group or user, CONFLICT when already a member. */
  async addMember(group: string, user: string, trx?: Queryable): Promise<void> {
    const { groupId, userId } = await this.ids(group, user, trx);
    try {
      await (trx ?? this.db)('group_members').insert({ group_id: groupId, user_id: userId });
    } catch (err) {
      if (isUniqueViolation(err)) throw fail('CONFLICT', `user ${user} is already a member of group ${group}`);
      throw err;
    }
  }

  /** Removes a member; NOT_FOUND for an unknown group or user or when not a member. */
  async removeMember(group: string, user: string, trx?: Queryable): Promise<void> {
    const { groupId, userId } = await this.ids(group, user, trx);
    const removed = await (trx ?? this.db)('group_members').where({ group_id: groupId, user_id: userId }).delete();
    if (removed === 0) throw fail('NOT_FOUND', `user ${user} is not a member of group ${group}`);
  }

  private async ids(group: string, user: string, trx?: Queryable): Promise<{ groupId: number; userId: number }> {
    const q = trx ?? this.db;
    const g = await q('groups').where({ name: group }).first('id');
    if (!g) throw fail('NOT_FOUND', `no group named ${group}`);
    const u = await q('users').where({ name: user }).first('id');
    if (!u) throw fail('NOT_FOUND', `no user named ${user}`);
    return { groupId: Number(g.id), userId: Number(u.id) };
  }
}
