/** Robot accounts: machine credentials stored as the SHA-256 of a random secret. */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { SqliteReads, type PreparedRead } from '../../../shared/db/sqlite-reads.js';
import { isUniqueViolation, toBool, toMillis, toMillisOrNull, type Queryable } from './common.js';

/** A stored robot. */
export interface RobotRecord {
  id: number;
  name: string;
  /** SHA-256 hex of the secret. */
  secretHash: string;
  expiresAt: number | null;
  revoked: boolean;
  lastUsedAt: number | null;
  createdBy: string;
  createdAt: number;
}

/** A robot as the admin API and CLI show it. */
export type PublicRobot = Omit<RobotRecord, 'secretHash' | 'id'>;

interface RobotRow {
  id: number;
  name: string;
  secret_hash: string;
  expires_at: unknown;
  revoked: unknown;
  last_used_at: unknown;
  created_by: string;
  created_at: unknown;
}

function fromRow(row: RobotRow): RobotRecord {
  return {
    id: Number(row.id),
    name: row.name,
    secretHash: row.secret_hash,
    expiresAt: toMillisOrNull(row.expires_at),
    revoked: toBool(row.revoked),
    lastUsedAt: toMillisOrNull(row.last_used_at),
    createdBy: row.created_by,
    createdAt: toMillis(row.created_at),
  };
}

/** Drops the secret hash and internal id. */
export function toPublicRobot(robot: RobotRecord): PublicRobot {
  const { secretHash: _hash, id: _id, ...rest } = robot;
  return rest;
}

/** The robots table. */
export class RobotStore {
  /**
   * The lookup every robot login makes, prepared once on SQLite (see shared/db/sqlite-reads.ts).
   * Without knex's `.first()`: its bound `LIMIT ?` makes SQLite re-prepare the statement on
   * every call, and the name is unique anyway.
   */
  private readonly byName: PreparedRead<[string]> | null;

  constructor(private readonly db: Knex) {
    this.byName = SqliteReads.forKnex(db)?.prepare(['string'], (q, name: string) => q('robots').where({ name })) ?? null;
  }

  /** The robot called `name` (e.g. `robot$ci`), or null. */
  async find(name: string, trx?: Queryable): Promise<RobotRecord | null> {
    const row = this.byName && !trx ? this.byName.get<RobotRow>(name) : await (trx ?? this.db)<RobotRow>('robots').where({ name }).first();
    return row ? fromRow(row) : null;
  }

  /** Every robot, by name. */
  async list(trx?: Queryable): Promise<RobotRecord[]> {
    return (await (trx ?? this.db)<RobotRow>('robots').orderBy('name')).map(fromRow);
  }

  /** Inserts a robot; CONFLICT when the name is taken. */
  async insert(
    robot: { name: string; secretHash: string; expiresAt: number | null; createdBy: string; now: number },
    trx?: Queryable,
  ): Promise<RobotRecord> {
    try {
      await (trx ?? this.db)('robots').insert({
        name: robot.name,
        secret_hash: robot.secretHash,
        expires_at: robot.expiresAt,
        revoked: false,
        last_used_at: null,
        created_by: robot.createdBy,
        created_at: robot.now,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw fail('CONFLICT', `robot ${robot.name} already exists`);
      throw err;
    }
    const created = await this.find(robot.name, trx);
    if (!created) throw new Error(`robot ${robot.name} vanished after insert`);
    return created;
  }

  /** Marks a robot revoked; false when there is no such robot. */
  async revoke(name: string, trx?: Queryable): Promise<boolean> {
    return (await (trx ?? this.db)('robots').where({ name }).update({ revoked: true })) > 0;
  }

  /** Deletes a robot; false when there is no such robot. */
  async delete(name: string, trx?: Queryable): Promise<boolean> {
    return (await (trx ?? this.db)('robots').where({ name }).delete()) > 0;
  }

  /**
   * Records a use. The WHERE clause makes concurrent replicas write at most once per
   * `minIntervalMs`, so busy robots do not turn every login into a write.
   */
  async touch(id: number, now: number, minIntervalMs: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('robots')
      .where({ id })
      .andWhere((w) => w.whereNull('last_used_at').orWhere('last_used_at', '<', now - minIntervalMs))
      .update({ last_used_at: now });
  }
}
