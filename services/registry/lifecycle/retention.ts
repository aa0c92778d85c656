/**
 * Retention: tags matching a policy's repository and tag patterns are removed unless they
 * are among the `keepLast` most recently pushed matching tags of their repository or were
 * pushed within `keepDays` days; a policy on the `pull` basis counts a tag's last use
 * instead: its latest pull by tag or of its manifest by digest (pull-times.ts), or its push
 * when that is later (a tag nobody pulled yet counts from its push). When several policies match a tag, it goes only if every
 * one of them lets it go. A tag an immutable rule protects is never removed. Removing the
 * last tag of a manifest (that no index of the repository lists) removes the manifest and
 * its referrers too; garbage collection then frees their bytes. Each removal is its own
 * transaction that re-reads the tag under its lock and skips it if it moved meanwhile.
 */
import type { Knex } from 'knex';
import { walSyncOf } from '../../../shared/db/index.js';
import { fail } from '../../../shared/http/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import { toDate } from '../metadata/rows.js';
import type { GcStore } from './gc-store.js';
import type { TagRuleStore } from './rules-store.js';
import { matchesPattern } from '../../../shared/grammar/repository-pattern.js';
import { isImmutable, ruleProblem, tagMatches } from './tag-rules.js';

const DAY_MS = 86_400_000;

/** A stored retention policy. */
export interface RetentionPolicy {
  id: number;
  repositoryPattern: string;
  tagPattern: string;
  keepLast: number | null;
  keepDays: number | null;
  /** What "recent" counts: pushes, or pulls (pull-times.ts). */
  basis: RetentionBasis;
}

/** What a retention policy's recency counts. */
export type RetentionBasis = 'push' | 'pull';

/** What a retention run removed (or, dry, would remove). */
export interface RetentionReport {
  dryRun: boolean;
  tags: Array<{ repository: string; tag: string; digest: string }>;
  manifests: Array<{ repository: string; digest: string }>;
}

interface TagRow {
  name: string;
  digest: string;
  updated_at: Date | number | string;
  tag_pulled_ms: number | string | null;
  manifest_pulled_ms: number | string | null;
}

/** Policies in the registry database, and the runs that apply them. */
export class Retention {
  constructor(
    private readonly db: Knex,
    private readonly metadata: MetadataStore,
    private readonly rules: TagRuleStore,
    private readonly locks: GcStore,
  ) {}

  /** Every policy, oldest first. */
  async list(): Promise<RetentionPolicy[]> {
    const rows: Array<{ id: number; repository_pattern: string; tag_pattern: string; keep_last: number | null; keep_days: number | null; basis: RetentionBasis }> =
      await this.db('retention_policies').select('*').orderBy('id');
    return rows.map((r) => ({ id: Number(r.id), repositoryPattern: r.repository_pattern, tagPattern: r.tag_pattern, keepLast: r.keep_last, keepDays: r.keep_days, basis: r.basis }));
  }

  /** Stores a policy (REQUEST_INVALID when malformed or keeping nothing). */
  async add(input: Omit<RetentionPolicy, 'id' | 'basis'> & { basis?: RetentionBasis }, actor: string): Promise<RetentionPolicy> {
    const policy = { ...input, basis: input.basis ?? 'push' };
    const problem = ruleProblem({ kind: 'format', repositoryPattern: policy.repositoryPattern, tagPattern: policy.tagPattern });
    if (problem) throw fail('REQUEST_INVALID', problem);
    if (policy.keepLast === null && policy.keepDays === null) throw fail('REQUEST_INVALID', 'a retention policy needs --keep-last N and/or --keep-days N');
    if (policy.basis !== 'push' && policy.basis !== 'pull') throw fail('REQUEST_INVALID', 'a retention policy counts push or pull');
    const id = await this.db.transaction(async (trx) => {
      const [row] = (await trx('retention_policies')
        .insert({
          repository_pattern: policy.repositoryPattern,
          tag_pattern: policy.tagPattern,
          keep_last: policy.keepLast,
          keep_days: policy.keepDays,
          basis: policy.basis,
          created_by: actor,
          created_at: new Date(),
        })
        .returning('id')) as Array<{ id: number } | number>;
      const newId = typeof row === 'object' ? Number(row.id) : Number(row);
      await trx('lifecycle_audit').insert({ at: new Date(), actor, action: 'retention.add', target: `policy ${newId}`, details: JSON.stringify(policy) });
      return newId;
    });
    await walSyncOf(this.db)?.flush();
    return { id, ...policy };
  }

  /** Removes a policy; NOT_FOUND when there is none with that id. */
  async remove(id: number, actor: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      if ((await trx('retention_policies').where('id', id).del()) === 0) throw fail('NOT_FOUND', `no retention policy ${id}`);
      await trx('lifecycle_audit').insert({ at: new Date(), actor, action: 'retention.remove', target: `policy ${id}`, details: '{}' });
    });
    await walSyncOf(this.db)?.flush();
  }

  /**
   * Applies every policy; with `dryRun` only reports. `nowMs` is the clock keep-days counts
   * from. A run that removed something by an `actor` (CLI, API) is recorded in the audit log.
   */
  async run(options: { dryRun?: boolean; nowMs?: number; actor?: string } = {}): Promise<RetentionReport> {
    const report = await this.apply(options.dryRun ?? false, options.nowMs ?? Date.now());
    if (options.actor !== undefined && !report.dryRun && report.tags.length > 0) {
      const details = { tags: report.tags.length, manifests: report.manifests.length, removed: report.tags.slice(0, 50).map((t) => `${t.repository}:${t.tag}`) };
      await this.db('lifecycle_audit').insert({ at: new Date(), actor: options.actor, action: 'retention.run', target: 'retention', details: JSON.stringify(details) });
      await walSyncOf(this.db)?.flush();
    }
    return report;
  }

  private async apply(dryRun: boolean, nowMs: number): Promise<RetentionReport> {
    const report: RetentionReport = { dryRun, tags: [], manifests: [] };
    const policies = await this.list();
    if (policies.length === 0) return report;
    const rules = await this.rules.list();
    const repositories: Array<{ name: string }> = await this.db('repositories').select('name').orderBy('name');
    for (const { name } of repositories) {
      const applicable = policies.filter((p) => matchesPattern(p.repositoryPattern, name));
      if (applicable.length === 0) continue;
      const tags: TagRow[] = await this.db('tags as t')
        .leftJoin('manifests as m', (j) => j.on('m.repository_id', 't.repository_id').andOn('m.digest', 't.digest'))
        .select('t.name', 't.digest', 't.updated_at', 't.last_pulled_ms as tag_pulled_ms', 'm.last_pulled_ms as manifest_pulled_ms')
        .where('t.repository_id', this.db('repositories').select('id').where('name', name))
        .orderBy('t.name');
      for (const tag of tags) {
        const verdicts = applicable.filter((p) => tagMatches(p.tagPattern, tag.name)).map((p) => keeps(p, tags, tag, nowMs));
        if (verdicts.length === 0 || verdicts.some(Boolean) || isImmutable(rules, name, tag.name)) continue;
        if (dryRun || (await this.removeTag(name, tag, report))) report.tags.push({ repository: name, tag: tag.name, digest: tag.digest });
      }
    }
    return report;
  }

  /** Removes one tag (and its manifest and referrers when it was the last tag) unless it changed since it was read. */
  private async removeTag(repository: string, tag: TagRow, report: RetentionReport): Promise<boolean> {
    const removed = await this.metadata.transaction(async (tx) => {
      const trx = tx as Knex.Transaction;
      await this.locks.lockDigests(trx, [`tag:${repository}:${tag.name}`, tag.digest]);
      if ((await this.metadata.resolveTag(repository, tag.name, tx)) !== tag.digest) return null;
      // A rule added since the run read them still wins.
      if (isImmutable(await this.rules.list(trx), repository, tag.name)) return null;
      await this.metadata.deleteTag(repository, tag.name, tx, 'retention');
      const repositoryId = trx('repositories').select('id').where('name', repository);
      const stillTagged = await trx('tags').first('name').where('repository_id', repositoryId).andWhere('digest', tag.digest);
      const listed = await trx('manifest_references as mr')
        .join('manifests as m', 'm.id', 'mr.manifest_id')
        .first('m.id')
        .where('mr.kind', 'manifest')
        .andWhere('mr.digest', tag.digest)
        .andWhere('m.repository_id', repositoryId);
      if (stillTagged || listed) return [];
      const referrers: Array<{ digest: string }> = await trx('manifests').select('digest').where('repository_id', repositoryId).andWhere('subject', tag.digest);
      const gone = [tag.digest, ...referrers.map((r) => r.digest)];
      for (const digest of gone) await this.metadata.deleteManifest(repository, digest, tx, 'retention');
      return gone;
    });
    if (removed === null) return false;
    for (const digest of removed) report.manifests.push({ repository, digest });
    return true;
  }
}

/** When `tag` was last pushed, or (pull basis) last used: its latest pull or its push, whichever is later. */
function recency(basis: RetentionBasis, tag: TagRow): number {
  const pushed = toDate(tag.updated_at).getTime();
  if (basis === 'push') return pushed;
  return Math.max(pushed, Number(tag.tag_pulled_ms ?? 0), Number(tag.manifest_pulled_ms ?? 0));
}

/** True when policy `p` keeps `tag` among `tags`. */
function keeps(p: RetentionPolicy, tags: TagRow[], tag: TagRow, nowMs: number): boolean {
  if (p.keepDays !== null && nowMs - recency(p.basis, tag) < p.keepDays * DAY_MS) return true;
  if (p.keepLast !== null) {
    const newestFirst = tags
      .filter((t) => tagMatches(p.tagPattern, t.name))
      .sort((a, b) => recency(p.basis, b) - recency(p.basis, a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (newestFirst.indexOf(tag) < p.keepLast) return true;
  }
  return false;
}
