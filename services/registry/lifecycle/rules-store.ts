/**
 * Tag rules in the registry database, and the audit log of every change to them (who,
 * when, what). Rules are read inside the transaction of the push or delete they judge.
 */
import type { Knex } from 'knex';
import { walSyncOf } from '../../../shared/db/index.js';
import { fail } from '../../../shared/http/errors.js';
import { toDate } from '../metadata/rows.js';
import { PRESETS, ruleProblem, type TagRule, type TagRuleKind, type TagRuleSpec } from './tag-rules.js';

type Executor = Knex | Knex.Transaction;

interface RuleRow {
  id: number;
  kind: string;
  repository_pattern: string;
  tag_pattern: string;
  created_by: string;
  created_at: Date | number | string;
}

/** One entry of the lifecycle audit log. */
export interface LifecycleAuditEntry {
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

function toRule(row: RuleRow): TagRule {
  return {
    id: Number(row.id),
    kind: row.kind as TagRuleKind,
    repositoryPattern: row.repository_pattern,
    tagPattern: row.tag_pattern,
    createdBy: row.created_by,
    createdAt: toDate(row.created_at),
  };
}

/** Stored tag rules and their audit trail. */
export class TagRuleStore {
  constructor(readonly db: Knex) {}

  /** Every rule, oldest first. */
  async list(exec: Executor = this.db): Promise<TagRule[]> {
    const rows: RuleRow[] = await exec('tag_rules').select('*').orderBy('id', 'asc');
    return rows.map(toRule);
  }

  /** Runs a write and returns once its commit is on disk (SQLite with deferred syncs). */
  private async write<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(fn);
    await walSyncOf(this.db)?.flush();
    return result;
  }

  private async audit(trx: Knex.Transaction, actor: string, action: string, target: string, details: Record<string, unknown>): Promise<void> {
    await trx('lifecycle_audit').insert({ at: new Date(), actor, action, target, details: JSON.stringify(details) });
  }

  /** Stores a rule (REQUEST_INVALID when malformed; an identical rule is returned as is). */
  async add(spec: TagRuleSpec, actor: string): Promise<TagRule> {
    const problem = ruleProblem(spec);
    if (problem) throw fail('REQUEST_INVALID', problem);
    return this.write(async (trx) => {
      const same = { kind: spec.kind, repository_pattern: spec.repositoryPattern, tag_pattern: spec.tagPattern };
      const existing: RuleRow | undefined = await trx('tag_rules').first('*').where(same);
      if (existing) return toRule(existing);
      await trx('tag_rules').insert({ ...same, created_by: actor, created_at: new Date() });
      const row: RuleRow = await trx('tag_rules').first('*').where(same);
      const rule = toRule(row);
      await this.audit(trx, actor, 'tag_rule.add', `rule ${rule.id}`, { ...spec });
      return rule;
    });
  }

  /** Removes a rule; NOT_FOUND when there is none with that id. */
  async remove(id: number, actor: string): Promise<TagRule> {
    return this.write(async (trx) => {
      const row: RuleRow | undefined = await trx('tag_rules').first('*').where('id', id);
      if (!row) throw fail('NOT_FOUND', `no tag rule ${id}`);
      await trx('tag_rules').where('id', id).del();
      const rule = toRule(row);
      await this.audit(trx, actor, 'tag_rule.remove', `rule ${id}`, { kind: rule.kind, repositoryPattern: rule.repositoryPattern, tagPattern: rule.tagPattern });
      return rule;
    });
  }

  /** Adds every rule of a preset that is not there yet; returns the preset's rules as stored. */
  async applyPreset(name: string, actor: string): Promise<TagRule[]> {
    const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
    if (!preset) throw fail('NOT_FOUND', `no preset ${name}; presets: ${Object.keys(PRESETS).join(', ')}`);
    const rules: TagRule[] = [];
    for (const spec of preset) rules.push(await this.add(spec, actor));
    await this.write((trx) => this.audit(trx, actor, 'tag_rule.preset', `preset ${name}`, { rules: rules.map((r) => r.id) }));
    return rules;
  }

  /** The newest audit entries first. */
  async auditLog(limit: number): Promise<LifecycleAuditEntry[]> {
    const rows: Array<{ at: Date | number | string; actor: string; action: string; target: string; details: string }> = await this.db('lifecycle_audit')
      .select('*')
      .orderBy('id', 'desc')
      .limit(limit);
    return rows.map((row) => ({ at: toDate(row.at), actor: row.actor, action: row.action, target: row.target, details: JSON.parse(row.details) as Record<string, unknown> }));
  }
}
