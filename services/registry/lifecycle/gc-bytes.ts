/**
 * The collector's last step: deleting the bytes of one page of due digests that nothing
 * references. A digest is kept when it was touched again, is referenced, or another
 * collector holds it. One decision per page rather than per blob, and a page's storage
 * operations side by side (bounded.ts), is what makes collection fast; the sizes are read
 * before the deciding transaction, so its locks are held only for the re-check. A removal
 * that fails is queued again, due at once, for the next run.
 *
 * How bytes leave their place depends on the store. Where it renames cheaply (a file
 * system) the deciding transaction marks the digests condemned (gc-condemned.ts), the bytes
 * move into a trash batch after its commit, outside the lock, a second short transaction
 * ends the marks, and the batch is deleted once that is durable (gc-trash.ts); a push of a
 * condemned digest waits for the marks to end (push-guard.ts). Elsewhere (object stores) the
 * bytes are deleted inside the deciding transaction, after a sync of the database log, while
 * the locks are held: a push that links a digest waits for its lock and then finds them gone.
 */
import type { Knex } from 'knex';
import { walSyncOf } from '../../../shared/db/index.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { MetadataStore } from '../metadata/store.js';
import type { BlobStore } from '../storage/blobs.js';
import { settleBounded, STORAGE_CONCURRENCY } from './bounded.js';
import type { GcStore } from './gc-store.js';
import type { BlobTrash, TrashBatch } from './gc-trash.js';

/** What deleting a page needs. */
export interface PageDeps {
  metadata: MetadataStore;
  gc: GcStore;
  blobs: BlobStore;
  logger: Logger;
  /** Null: delete in place (the store cannot rename). */
  trash: BlobTrash | null;
  clock: () => number;
}

/**
 * Deletes the bytes of those of `digests` (due before `until`) that are still garbage;
 * returns what it deleted, and the emptying of its trash batch (settled, never rejects),
 * which the caller may let run beside the next page.
 */
export async function deletePageOfBytes(
  deps: PageDeps,
  digests: readonly string[],
  until: number,
): Promise<{ deleted: Array<{ digest: string; size: number }>; emptied: Promise<void> }> {
  const { metadata, gc, blobs, logger, trash, clock } = deps;
  const stats = await settleBounded(digests, STORAGE_CONCURRENCY, (digest) => blobs.stat(parseDigest(digest)));
  const sizes = new Map<string, number>();
  const unreadable = new Set<string>();
  stats.forEach((result, index) => {
    if (result.status === 'rejected') unreadable.add(digests[index]!);
    else if (result.value) sizes.set(digests[index]!, result.value.size);
  });
  const page: Page = {
    async decide(trx) {
      const locked = await gc.tryLockEach(trx, digests);
      const taken = await gc.takeDueReviews(trx, [...locked], clock());
      const referenced = await gc.referencedAmong(trx, [...taken]);
      const unreferenced = [...taken].filter((digest) => !referenced.has(digest)).sort();
      // A digest whose stat failed is retried; one whose bytes were absent has nothing to delete.
      const retry = unreferenced.filter((digest) => unreadable.has(digest));
      const garbage = unreferenced.flatMap((digest) => (sizes.has(digest) ? [{ digest, size: sizes.get(digest)! }] : []));
      return { garbage, retry };
    },
    async requeue(trx, retry, removals) {
      if (retry.length === 0) return;
      const reasons = [...stats, ...removals].flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      if (reasons.length > 0) logger.warn({ digests: retry.length, reason: reasons[0] }, 'garbage collection could not delete some blobs; they are queued for the next pass');
      await gc.enqueue(trx, retry, Math.max(clock(), until + 1));
    },
  };
  const batch = trash?.batch() ?? null;
  if (batch) return moveOutPage(deps, page, batch);
  const deleted = await metadata.transaction(async (tx) => {
    const trx = tx as Knex.Transaction;
    const { garbage, retry } = await page.decide(trx);
    // What made these garbage may be a commit not yet synced (SQLite, deferred syncs): make
    // it durable first, so a power cut cannot bring back a reference to deleted bytes.
    if (garbage.length > 0) await walSyncOf(gc.db)?.flush();
    const removals = await settleBounded(garbage, STORAGE_CONCURRENCY, ({ digest }) => blobs.delete(parseDigest(digest)));
    retry.push(...garbage.filter((_, index) => removals[index]!.status === 'rejected').map((g) => g.digest));
    await page.requeue(trx, retry, removals);
    // false: the bytes went since the stat (another collector); nothing was freed here.
    return garbage.filter((_, index) => isTrue(removals[index]!));
  });
  return { deleted, emptied: Promise.resolve() };
}

/** One page's decision and its bookkeeping, shared by both ways of removing bytes. */
interface Page {
  /** Under the locks: what is garbage now, and what to queue again. */
  decide(trx: Knex.Transaction): Promise<{ garbage: Array<{ digest: string; size: number }>; retry: string[] }>;
  /** Queues `retry` again, due for the next run, logging the first failure among `removals`. */
  requeue(trx: Knex.Transaction, retry: string[], removals: Array<PromiseSettledResult<boolean>>): Promise<void>;
}

function isTrue(result: PromiseSettledResult<boolean>): boolean {
  return result.status === 'fulfilled' && result.value;
}

/**
 * The trash path: the deciding transaction marks the garbage condemned and commits; the
 * bytes move into the batch outside the lock; a second transaction ends the marks. A mark
 * a push took for stale in between (gc-condemned.ts) means its bytes go back in place. The
 * batch is emptied once both commits are durable (metadata.transaction resolves after the
 * log sync).
 */
async function moveOutPage(deps: PageDeps, page: Page, batch: TrashBatch): Promise<{ deleted: Array<{ digest: string; size: number }>; emptied: Promise<void> }> {
  const { metadata, gc, logger, clock } = deps;
  const garbage = await metadata.transaction(async (tx) => {
    const trx = tx as Knex.Transaction;
    const decided = await page.decide(trx);
    await gc.condemned.condemn(trx, decided.garbage.map((g) => g.digest), batch.key, clock());
    await page.requeue(trx, decided.retry, []);
    return decided.garbage;
  });
  if (garbage.length === 0) return { deleted: [], emptied: Promise.resolve() };
  const removals = await batch.moveOut(garbage.map(({ digest }) => parseDigest(digest)));
  // Not moved (false): the bytes went since the stat (another collector); nothing was freed here.
  const moved = garbage.filter((_, index) => isTrue(removals[index]!));
  const kept = await metadata.transaction(async (tx) => {
    const trx = tx as Knex.Transaction;
    const still = await gc.condemned.release(trx, batch.key);
    await page.requeue(trx, garbage.filter((_, index) => removals[index]!.status === 'rejected').map((g) => g.digest), removals);
    return still;
  });
  const deleted = moved.filter(({ digest }) => kept.has(digest));
  const claimed = moved.filter(({ digest }) => !kept.has(digest));
  try {
    await batch.putBack(claimed.map(({ digest }) => parseDigest(digest)));
  } catch (err) {
    // Never emptied then: the next run, or the registry's start, puts the whole batch back.
    logger.error({ err, blobs: claimed.length }, 'garbage collection could not put back blobs a push claimed; they stay in the trash until the next run puts them back');
    return { deleted, emptied: Promise.resolve() };
  }
  const emptied =
    moved.length > 0
      ? batch.empty().catch((err: unknown) => {
          logger.warn({ err }, 'garbage collection could not empty its trash; the next run puts the blobs back and collects them again');
        })
      : Promise.resolve();
  return { deleted, emptied };
}
