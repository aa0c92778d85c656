/** ACL grants: a subject may perform actions on repositories matching a pattern. */
import type { Knex } from 'knex';
import type { GrantRule, Principal, SubjectKind } from '../authorize.js';
import { fail } from '../../../shared/http/errors.js';
import { SqliteReads, type PreparedRead, type ReadParam } from '../../../shared/db/sqlite-reads.js';
import { isUniqueViolation, toMillis, type Queryable } from './common.js';

/** A stored grant. */
export interface GrantRecord extends GrantRule {
  id: number;
  createdBy: string;
  createdAt: number;
}

interface GrantRow {
  id: number;
  subject_kind: string;
  subject_name: string;
  pattern: string;
  actions: string;
  created_by: string;
  created_at: unknown;
}

function fromRow(row: GrantRow): GrantRecord {
  return {
    id: Number(row.id),
    subjectKind: row.subject_kind as SubjectKind,
    subjectName: row.subject_name,
    pattern: row.pattern,
    actions: row.actions.split(','),
    createdBy: row.created_by,
    createdAt: toMillis(row.created_at),
  };
}

/** What selects the grants of a principal: its kind and name and, for a user, its groups. */
type PrincipalKey = Pick<Principal, 'kind' | 'name'> & { groups: readonly string[] };

/**
 * The grants that can apply to a principal: anonymous and authenticated grants plus those
 * naming the principal or one of its groups. The SQL depends only on the principal's kind
 * and number of groups, which is what lets the SQLite path prepare it once per shape.
 */
function grantsForQuery(db: Queryable, principal: PrincipalKey): Knex.QueryBuilder {
  return db<GrantRow>('grants').where((w) => {
    w.where('subject_kind', 'anonymous');
    if (principal.kind === 'anonymous') return;
    w.orWhere('subject_kind', 'authenticated');
    w.orWhere((s) => s.where('subject_kind', principal.kind).andWhere('subject_name', principal.name));
    if (principal.kind === 'user' && principal.groups.length > 0) {
      w.orWhere((s) => s.where('subject_kind', 'group').whereIn('subject_name', [...principal.groups]));
    }
  });
}

/** Distinct query shapes kept prepared; a principal in more groups than this is rare and goes through knex. */
const MAX_PREPARED_SHAPES = 64;

/** The grants table. */
export class GrantStore {
  private readonly reads: SqliteReads | null;
  /** Prepared grant lookups by shape: `<kind>:<number of groups>`. */
  private readonly byShape = new Map<string, PreparedRead<ReadParam[]>>();

  constructor(private readonly db: Knex) {
    this.reads = SqliteReads.forKnex(db);
  }

  /** Every grant, optionally only those of one subject, by id. */
  async list(filter: { subjectKind?: SubjectKind; subjectName?: string } = {}, trx?: Queryable): Promise<GrantRecord[]> {
    const q = (trx ?? this.db)<GrantRow>('grants').orderBy('id');
    if (filter.subjectKind !== undefined) q.where('subject_kind', filter.subjectKind);
    if (filter.subjectName !== undefined) q.where('subject_name', filter.subjectName);
    return (await q).map(fromRow);
  }

  /** One grant by id, or null. */
  async find(id: number, trx?: Queryable): Promise<GrantRecord | null> {
    const row = await (trx ?? this.db)<GrantRow>('grants').where({ id }).first();
    return row ? fromRow(row) : null;
  }

  /**
   * The grants that can apply to `principal` (one indexed query): anonymous and
   * authenticated grants plus those naming the principal or one of its groups. The
   * authorizer still checks each rule; this only narrows what is read.
   */
  async forPrincipal(principal: Principal, trx?: Queryable): Promise<GrantRecord[]> {
    const prepared = trx ? null : this.preparedFor(principal);
    const params = principal.kind === 'anonymous' ? [] : [principal.name, ...(principal.kind === 'user' ? principal.groups : [])];
    const rows: GrantRow[] = prepared ? prepared.all(...params) : await grantsForQuery(trx ?? this.db, principal);
    return rows.map(fromRow);
  }

  /** The prepared lookup for the principal's shape on SQLite, or null (PostgreSQL, too many shapes). */
  private preparedFor(principal: Principal): PreparedRead<ReadParam[]> | null {
    if (!this.reads) return null;
    const groups = principal.kind === 'user' ? principal.groups.length : 0;
    const shape = `${principal.kind}:${groups}`;
    let prepared = this.byShape.get(shape);
    if (!prepared) {
      if (this.byShape.size >= MAX_PREPARED_SHAPES) return null;
      const kind = principal.kind;
      const kinds = Array.from({ length: kind === 'anonymous' ? 0 : 1 + groups }, () => 'string' as const);
      prepared = this.reads.prepare(kinds, (q, name?: ReadParam, ...groupNames: ReadParam[]) =>
        grantsForQuery(q, { kind, name: String(name ?? ''), groups: groupNames.map(String) }),
      );
      this.byShape.set(shape, prepared);
    }
    return prepared;
  }

  /**
   * Adds a grant. A grant for the same subject and pattern already present gets the new
   * actions merged in, so `grants add` twice widens one rule instead of failing.
   */
  async add(grant: GrantRule & { createdBy: string; now: number }, trx?: Queryable): Promise<GrantRecord> {
    const run = async (q: Queryable): Promise<GrantRecord> => {
      const key = { subject_kind: grant.subjectKind, subject_name: grant.subjectName, pattern: grant.pattern };
      const existing = await q<GrantRow>('grants').where(key).first();
      if (existing) {
        const merged = [...new Set([...existing.actions.split(','), ...grant.actions])];
        await q('grants').where({ id: existing.id }).update({ actions: merged.join(',') });
      } else {
        try {
          await q('grants').insert({ ...key, actions: grant.actions.join(','), created_by: grant.createdBy, created_at: grant.now });
        } catch (err) {
          if (isUniqueViolation(err)) throw fail('CONFLICT', 'the grant was changed concurrently; retry');
          throw err;
        }
      }
      const row = await q<GrantRow>('grants').where(key).first();
      if (!row) throw new Error('grant vanished after insert');
      return fromRow(row);
    };
    return trx ? run(trx) : this.db.transaction(run);
  }

  /** Removes a grant by id; false when there is none. */
  async remove(id: number, trx?: Queryable): Promise<boolean> {
    return (await (trx ?? this.db)('grants').where({ id }).delete()) > 0;
  }

  /** Removes every grant naming a subject (when the user, group or robot is deleted). */
  async removeForSubject(subjectKind: SubjectKind, subjectName: string, trx?: Queryable): Promise<number> {
    return (trx ?? this.db)('grants').where({ subject_kind: subjectKind, subject_name: subjectName }).delete();
  }
}
