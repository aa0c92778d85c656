/**
 * The garbage collector's SQL: the review queue, the per-digest lock, and the "is this
 * still garbage" conditions. Each condition is built once and used twice, to find
 * candidates and to re-check one candidate inside the deleting transaction, so the two can
 * never disagree. Everything runs on the registry's own knex instance (the same SQLite
 * connection or PostgreSQL pool as the metadata store).
 */
import type { Knex } from 'knex';
import { toNumber } from '../metadata/rows.js';
import { CondemnedMarks } from './gc-condemned.js';

/** Anything knex can run a query on: the database or one of its transactions. */
export type Executor = Knex | Knex.Transaction;

/** Advisory-lock class of digest locks (the two-key form keeps them apart from any one-key lock). */
const DIGEST_LOCK_CLASS = 8080;

/** Rows per multi-row insert into the review queue. */
const ENQUEUE_CHUNK = 500;

/** What decides whether something is garbage now. */
export interface Horizon {
  /** Now, in epoch milliseconds: a review row due at or before it no longer protects. */
  nowMs: number;
  /** Rows created before this are older than the grace period. */
  cutoff: Date;
  /** Untagged, unreferenced manifests are garbage too (registry.gc.deleteuntagged). */
  deleteUntagged: boolean;
}

/** A manifest the collector may delete. */
export interface ManifestCandidate {
  id: number;
  repository: string;
  digest: string;
}

/** A blob link the collector may delete. */
export interface LinkCandidate {
  repositoryId: number;
  repository: string;
  digest: string;
}

/** `NOT EXISTS` a review row for `digestColumn` that is still in the future. */
function notUnderReview(db: Executor, digestColumn: string, nowMs: number) {
  return db('gc_reviews as g').select(db.raw('1')).whereRaw('g.digest = ??', [digestColumn]).andWhere('g.review_after_ms', '>', nowMs);
}

/** A manifest of the repository in `repositoryColumn` (other than the `gone` ones) references `digestColumn` as a `kind`. */
function referencedInRepository(db: Executor, kind: 'blob' | 'manifest', digestColumn: string, repositoryColumn: string, gone: readonly number[] = []) {
  const query = db('manifest_references as mr')
    .join('manifests as referrer', 'referrer.id', 'mr.manifest_id')
    .select(db.raw('1'))
    .where('mr.kind', kind)
    .andWhereRaw('mr.digest = ??', [digestColumn])
    .andWhereRaw('referrer.repository_id = ??', [repositoryColumn]);
  return gone.length > 0 ? query.whereNotIn('referrer.id', gone) : query;
}

/**
 * Manifests that nothing keeps: no tag, no index of the same repository lists them, and
 * (a referrer) their subject is gone from the repository. Without `deleteUntagged` only such
 * orphaned referrers qualify: untagged images are kept unless a policy says otherwise.
 * `gone` (a dry run's cascade): manifest ids to treat as already deleted.
 */
function collectableManifests(db: Executor, horizon: Horizon, gone: readonly number[] = []): Knex.QueryBuilder {
  const query = db('manifests as m')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('m.created_at', '<', horizon.cutoff)
    .whereNotExists(db('tags as t').select(db.raw('1')).whereRaw('t.repository_id = m.repository_id').andWhereRaw('t.digest = m.digest'))
    .whereNotExists(referencedInRepository(db, 'manifest', 'm.digest', 'm.repository_id', gone))
    .whereNotExists(notUnderReview(db, 'm.digest', horizon.nowMs));
  const subjectPresent = db('manifests as s').select(db.raw('1')).whereRaw('s.repository_id = m.repository_id').andWhereRaw('s.digest = m.subject');
  if (gone.length > 0) {
    query.whereNotIn('m.id', gone);
    subjectPresent.whereNotIn('s.id', gone);
  }
  if (horizon.deleteUntagged) {
    query.andWhere((q) => q.whereNull('m.subject').orWhereNotExists(subjectPresent));
  } else {
    query.whereNotNull('m.subject').whereNotExists(subjectPresent);
  }
  return query;
}

/** Blob links no manifest of their repository (but the `gone` ones) references, untouched for the grace period. */
function collectableLinks(db: Executor, horizon: Horizon, gone: readonly number[] = []): Knex.QueryBuilder {
  return db('blob_links as l')
    .join('repositories as r', 'r.id', 'l.repository_id')
    .where('l.created_at', '<', horizon.cutoff)
    .whereNotExists(referencedInRepository(db, 'blob', 'l.digest', 'l.repository_id', gone))
    .whereNotExists(notUnderReview(db, 'l.digest', horizon.nowMs));
}

/** Queries of the collector and of the push paths that must exclude it. */
export class GcStore {
  /** The collector's marks on digests it is moving out (gc-condemned.ts). */
  readonly condemned: CondemnedMarks;

  constructor(readonly db: Knex) {
    this.condemned = new CondemnedMarks(db);
  }

  private get postgres(): boolean {
    return this.db.client.dialect === 'postgresql';
  }

  /**
   * Takes the lock of every digest for the rest of `trx` (sorted, so two transactions never
   * wait on each other in a cycle). PostgreSQL: transaction-scoped advisory locks. SQLite:
   * nothing to do, every transaction already holds the database's write lock from BEGIN
   * IMMEDIATE (shared/db). With `wait: false` it returns false instead of waiting (a busy
   * digest is one the collector skips this round).
   */
  async lockDigests(trx: Knex.Transaction, digests: readonly string[], options: { wait: boolean } = { wait: true }): Promise<boolean> {
    if (!this.postgres) return true;
    for (const digest of [...new Set(digests)].sort()) {
      if (options.wait) {
        await trx.raw('select pg_advisory_xact_lock(?, hashtext(?))', [DIGEST_LOCK_CLASS, digest]);
      } else {
        const result = await trx.raw('select pg_try_advisory_xact_lock(?, hashtext(?)) as locked', [DIGEST_LOCK_CLASS, digest]);
        if ((result as { rows: Array<{ locked: boolean }> }).rows[0]?.locked !== true) return false;
      }
    }
    return true;
  }

  /**
   * Takes, without waiting, the lock of each digest that is free and returns those it got
   * (a busy digest is one the collector skips this round). Never waiting means no lock
   * order is needed. SQLite: every digest, the write lock from BEGIN IMMEDIATE covers them.
   */
  async tryLockEach(trx: Knex.Transaction, digests: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(digests)];
    if (!this.postgres || unique.length === 0) return new Set(unique);
    const result = await trx.raw('select d as digest from unnest(?::text[]) as d where pg_try_advisory_xact_lock(?, hashtext(d))', [unique, DIGEST_LOCK_CLASS]);
    return new Set((result as { rows: Array<{ digest: string }> }).rows.map((row) => row.digest));
  }

  /** Protects the digests until at least `reviewAfterMs` (a later time already set stays). */
  async touch(db: Executor, digests: readonly string[], reviewAfterMs: number): Promise<void> {
    const unique = [...new Set(digests)].sort();
    if (unique.length === 0) return;
    await db('gc_reviews')
      .insert(unique.map((digest) => ({ digest, review_after_ms: reviewAfterMs })))
      .onConflict('digest')
      .merge({
        review_after_ms: db.raw(
          'case when excluded.review_after_ms > gc_reviews.review_after_ms then excluded.review_after_ms else gc_reviews.review_after_ms end',
        ),
      });
  }

  /** Queues digests for review at `reviewAfterMs` unless a row already protects them. */
  async enqueue(db: Executor, digests: readonly string[], reviewAfterMs: number): Promise<void> {
    const unique = [...new Set(digests)].sort();
    if (unique.length === 0) return;
    await db('gc_reviews')
      .insert(unique.map((digest) => ({ digest, review_after_ms: reviewAfterMs })))
      .onConflict('digest')
      .ignore();
  }

  /** Queues each digest for review at its own time unless a row already protects it (chunked: SQLite's bound-variable limit). */
  async enqueueEach(db: Executor, rows: ReadonlyArray<{ digest: string; reviewAfterMs: number }>): Promise<void> {
    const sorted = [...rows].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
    for (let start = 0; start < sorted.length; start += ENQUEUE_CHUNK) {
      const chunk = sorted.slice(start, start + ENQUEUE_CHUNK).map((row) => ({ digest: row.digest, review_after_ms: row.reviewAfterMs }));
      await db('gc_reviews').insert(chunk).onConflict('digest').ignore();
    }
  }

  /** A page of collectable manifests after id `afterId`, treating the `gone` ids as deleted. */
  async manifestCandidates(horizon: Horizon, afterId: number, limit: number, gone: readonly number[] = []): Promise<ManifestCandidate[]> {
    const rows: Array<{ id: number; name: string; digest: string }> = await collectableManifests(this.db, horizon, gone)
      .select('m.id', 'r.name', 'm.digest')
      .andWhere('m.id', '>', afterId)
      .orderBy('m.id', 'asc')
      .limit(limit);
    return rows.map((row) => ({ id: Number(row.id), repository: row.name, digest: row.digest }));
  }

  /** The re-check inside the deleting transaction. */
  async manifestStillCollectable(trx: Knex.Transaction, horizon: Horizon, id: number): Promise<boolean> {
    return (await collectableManifests(trx, horizon).first('m.id').andWhere('m.id', id)) !== undefined;
  }

  /** A page of collectable blob links after (repositoryId, digest), treating the `gone` manifest ids as deleted. */
  async linkCandidates(horizon: Horizon, after: { repositoryId: number; digest: string } | null, limit: number, gone: readonly number[] = []): Promise<LinkCandidate[]> {
    const query = collectableLinks(this.db, horizon, gone).select('l.repository_id', 'r.name', 'l.digest');
    if (after) query.andWhereRaw('(l.repository_id, l.digest) > (?, ?)', [after.repositoryId, after.digest]);
    const rows: Array<{ repository_id: number; name: string; digest: string }> = await query
      .orderBy([{ column: 'l.repository_id' }, { column: 'l.digest' }])
      .limit(limit);
    return rows.map((row) => ({ repositoryId: Number(row.repository_id), repository: row.name, digest: row.digest }));
  }

  /** The re-check inside the deleting transaction. */
  async linkStillCollectable(trx: Knex.Transaction, horizon: Horizon, repositoryId: number, digest: string): Promise<boolean> {
    const row = await collectableLinks(trx, horizon).first('l.digest').andWhere('l.repository_id', repositoryId).andWhere('l.digest', digest);
    return row !== undefined;
  }

  /** Digests whose review is due, oldest first, after `after` in (review_after_ms, digest) order. */
  async dueReviews(nowMs: number, after: { reviewAfterMs: number; digest: string } | null, limit: number): Promise<Array<{ digest: string; reviewAfterMs: number }>> {
    const query = this.db('gc_reviews').select('digest', 'review_after_ms').where('review_after_ms', '<=', nowMs);
    // A row value, not `a > x or (a = x and b > y)`: SQLite seeks the index with it, where the
    // OR form made it walk every row of the same due time before the cursor (8.8 ms a page at 100,000).
    if (after) query.andWhereRaw('(review_after_ms, digest) > (?, ?)', [after.reviewAfterMs, after.digest]);
    const rows: Array<{ digest: string; review_after_ms: number | string }> = await query
      .orderBy([{ column: 'review_after_ms' }, { column: 'digest' }])
      .limit(limit);
    return rows.map((row) => ({ digest: row.digest, reviewAfterMs: toNumber(row.review_after_ms) }));
  }

  /**
   * Removes the review rows of those digests that are due, in one statement, and returns
   * the digests it took; a digest whose row is gone or was bumped (touched again) is not
   * garbage this round. On PostgreSQL the rows stay locked until the commit, against a
   * concurrent bump.
   */
  async takeDueReviews(trx: Knex.Transaction, digests: readonly string[], nowMs: number): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    // SELECT then DELETE, as the sqlite client of knex returns no rows from DELETE ... RETURNING.
    // SQLite's write lock is held since BEGIN IMMEDIATE; FOR UPDATE holds the rows on PostgreSQL.
    const due = trx('gc_reviews').select('digest').whereIn('digest', digests).andWhere('review_after_ms', '<=', nowMs);
    const rows: Array<{ digest: string }> = await (this.postgres ? due.forUpdate() : due);
    const taken = rows.map((row) => row.digest);
    if (taken.length > 0) await trx('gc_reviews').whereIn('digest', taken).del();
    return new Set(taken);
  }

  /** The digests among `digests` that any repository links, any manifest is, or any manifest references. */
  async referencedAmong(db: Executor, digests: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (digests.length === 0) return found;
    const tables: Array<[string, string]> = [['blob_links', 'digest'], ['manifests', 'digest'], ['manifest_references', 'digest']];
    for (const [table, column] of tables) {
      const rows: Array<{ digest: string }> = await db(table).distinct(`${column} as digest`).whereIn(column, digests);
      for (const row of rows) found.add(row.digest);
    }
    return found;
  }

  /**
   * The digests among `digests` that something outside the `gone` manifests and links
   * (a dry run's cascade) still references, or that a review row protects beyond `nowMs`.
   */
  async keptAmong(digests: readonly string[], gone: { manifests: ReadonlySet<number>; links: ReadonlySet<string> }, nowMs: number): Promise<Set<string>> {
    const kept = new Set<string>();
    if (digests.length === 0) return kept;
    const links: Array<{ repository_id: number; digest: string }> = await this.db('blob_links').select('repository_id', 'digest').whereIn('digest', digests);
    for (const row of links) if (!gone.links.has(`${Number(row.repository_id)} ${row.digest}`)) kept.add(row.digest);
    for (const table of ['manifests', 'manifest_references']) {
      const idColumn = table === 'manifests' ? 'id' : 'manifest_id';
      const rows: Array<{ owner: number; digest: string }> = await this.db(table).select(`${idColumn} as owner`, 'digest').whereIn('digest', digests);
      for (const row of rows) if (!gone.manifests.has(Number(row.owner))) kept.add(row.digest);
    }
    const protectedRows: Array<{ digest: string }> = await this.db('gc_reviews').select('digest').whereIn('digest', digests).andWhere('review_after_ms', '>', nowMs);
    for (const row of protectedRows) kept.add(row.digest);
    return kept;
  }

  /** The blob digests the given manifests reference. */
  async blobsOf(manifestIds: readonly number[]): Promise<string[]> {
    if (manifestIds.length === 0) return [];
    const rows: Array<{ digest: string }> = await this.db('manifest_references').distinct('digest').whereIn('manifest_id', manifestIds).andWhere('kind', 'blob');
    return rows.map((row) => row.digest);
  }

  /** The digests among `digests` that have a review row (due or not). */
  async reviewedAmong(db: Executor, digests: readonly string[]): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const rows: Array<{ digest: string }> = await db('gc_reviews').select('digest').whereIn('digest', digests);
    return new Set(rows.map((row) => row.digest));
  }

  /** A value of the collector's persistent state, or null. */
  async getState(name: string): Promise<string | null> {
    const row: { value: string } | undefined = await this.db('gc_state').first('value').where('name', name);
    return row ? row.value : null;
  }

  /** Sets a value of the collector's persistent state. */
  async setState(name: string, value: string): Promise<void> {
    await this.db('gc_state').insert({ name, value }).onConflict('name').merge(['value']);
  }
}
