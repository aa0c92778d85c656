/**
 * Tag rules at the two places they apply: the transaction of a manifest PUT by tag, and the
 * transaction of a manifest or tag DELETE. The rules and the tag's current digest are read
 * inside that transaction after taking the tag's lock (PostgreSQL advisory lock; SQLite's
 * write lock), so two pushes racing for one immutable tag cannot both win.
 */
import type { Knex } from 'knex';
import type { MetadataStore, Tx } from '../metadata/store.js';
import type { GcStore } from './gc-store.js';
import type { TagRuleStore } from './rules-store.js';
import { checkTagDelete, checkTagPush } from './tag-rules.js';

/** Enforces the stored tag rules. */
export class TagRuleGuard {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly rules: TagRuleStore,
    private readonly locks: GcStore,
  ) {}

  /** DENIED unless `tag` of `repository` may point at `digest`. */
  async checkPush(tx: Tx, repository: string, tag: string, digest: string): Promise<void> {
    const trx = tx as Knex.Transaction;
    const rules = await this.rules.list(trx);
    if (rules.length === 0) return;
    await this.locks.lockDigests(trx, [`tag:${repository}:${tag}`]);
    checkTagPush(rules, repository, tag, digest, await this.metadata.resolveTag(repository, tag, tx));
  }

  /** DENIED when the deletion would remove an immutable tag: `tag`, or any tag of the manifest `digest`. */
  async checkDelete(tx: Tx, repository: string, target: { tag: string } | { digest: string }): Promise<void> {
    const trx = tx as Knex.Transaction;
    const rules = await this.rules.list(trx);
    if (rules.length === 0) return;
    const tags =
      'tag' in target
        ? // Deleting a tag that is not there is MANIFEST_UNKNOWN, not a rule violation.
          (await this.metadata.resolveTag(repository, target.tag, tx)) === null
          ? []
          : [target.tag]
        : ((await trx('tags')
            .select('name')
            .where('repository_id', trx('repositories').select('id').where('name', repository))
            .andWhere('digest', target.digest)) as Array<{ name: string }>).map((row) => row.name);
    checkTagDelete(rules, repository, tags);
  }
}
