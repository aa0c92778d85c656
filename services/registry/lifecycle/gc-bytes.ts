/**
 * The collector's last step: deleting the bytes of one page of due digests that nothing
 * references, in one transaction. A digest is kept when it was touched again, is
 * referenced, or another collector holds it. The bytes leave their place while the locks
 * are held and before the review rows' removal commits: a push that links a digest waits
 * for its lock and then finds the bytes gone (push-guard.ts). One transaction per page
 * rather than per blob, and a page's storage operations side by side (bounded.ts), is what
 * makes collection fast; the sizes are read before the transaction, so the locks are held
 * only for the re-check and the removals. A removal that fails is queued again, due at
 * once, for the next run.
 *
 * How bytes leave their place depends on the store. Where it renames cheaply (a file
 * system) they are moved into a trash batch inside the transaction and deleted after the
 * durable commit, outside the lock (gc-trash.ts). Elsewhere (object stores) they are
 * deleted inside the transaction, after a sync of the database log.
 */
import type { Knex } from 'knex';
import { walSyncOf } from '../../../shared/db/index.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { MetadataStore } from '../metadata/store.js';
import type { BlobStore } from '../storage/blobs.js';
import { settleBounded, STORAGE_CONCURRENCY } from './bounded.js';
import type { GcStore } from './gc-store.js';
import type { BlobTrash } from './gc-trash.js';

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
  const batch = trash?.batch() ?? null;
  const deleted = await metadata.transaction(async (tx) => {
    const trx = tx as Knex.Transaction;
    const locked = await gc.tryLockEach(trx, digests);
    const taken = await gc.takeDueReviews(trx, [...locked], clock());
    const referenced = await gc.referencedAmong(trx, [...taken]);
    // A digest whose stat failed is retried; one whose bytes were absent has nothing to delete.
    const unreferenced = [...taken].filter((digest) => !referenced.has(digest)).sort();
    const retry = unreferenced.filter((digest) => unreadable.has(digest));
    const garbage = unreferenced.flatMap((digest) => (sizes.has(digest) ? [{ digest, size: sizes.get(digest)! }] : []));
    if (garbage.length > 0 && !batch) {
      // What made these garbage may be a commit not yet synced (SQLite, deferred syncs): make
      // it durable first, so a power cut cannot bring back a reference to deleted bytes.
      // (Moved to the trash instead, they are deleted only after the sync that follows the commit.)
      await walSyncOf(gc.db)?.flush();
    }
    const removals = batch
      ? await batch.moveOut(garbage.map(({ digest }) => parseDigest(digest)))
      : await settleBounded(garbage, STORAGE_CONCURRENCY, ({ digest }) => blobs.delete(parseDigest(digest)));
    // false: the bytes went since the stat (another collector); nothing was freed here.
    const removed = garbage.filter((_, index) => {
      const result = removals[index]!;
      return result.status === 'fulfilled' && result.value;
    });
    retry.push(...garbage.filter((_, index) => removals[index]!.status === 'rejected').map((g) => g.digest));
    if (retry.length > 0) {
      const reasons = [...stats, ...removals].flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      logger.warn({ digests: retry.length, reason: reasons[0] }, 'garbage collection could not delete some blobs; they are queued for the next pass');
      await gc.enqueue(trx, retry, Math.max(clock(), until + 1));
    }
    return removed;
  });
  // metadata.transaction resolved: the commit, and every commit it read, is on disk.
  const emptied =
    batch && deleted.length > 0
      ? batch.empty().catch((err: unknown) => {
          logger.warn({ err }, 'garbage collection could not empty its trash; the next run puts the blobs back and collects them again');
        })
      : Promise.resolve();
  return { deleted, emptied };
}
