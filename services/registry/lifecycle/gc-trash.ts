/**
 * The collector's trash, on stores that rename cheaply (StorageDriver.rename: local file
 * systems). A recursive delete of a blob directory is half a dozen file-system calls, a
 * rename one; so the collector only moves a page's doomed directories here while their
 * digests are condemned (gc-condemned.ts), and deletes them later, once the commits that
 * decided it are durable.
 *
 * The database log is synced after the commit instead of before the moves (the sync every
 * deletion of bytes needs: the state the decision read may hold another connection's
 * unsynced commit, say an unacknowledged manifest DELETE). A power cut in between may roll
 * that state back while the moves survive, so what a crash leaves here is never deleted
 * blindly: restore() puts every entry back in its place (or drops it where the place holds
 * the same bytes again) at the start of the next run, and when the registry starts.
 * Putting back is always safe, it only turns bytes back into what the sweep finds and
 * reviews; a live collector whose entries another run puts back merely reports bytes
 * that the next run frees again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../shared/observability/logger.js';
import type { BlobStore } from '../storage/blobs.js';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.js';
import { digestOfGcTrashPath, gcTrashBatchDirectory, gcTrashPath, gcTrashRoot } from '../storage/paths.js';
import type { Digest } from '../../../shared/grammar/reference.js';
import { settleBounded, STORAGE_CONCURRENCY } from './bounded.js';
import { listOrEmpty } from './gc-sweep.js';

/** One page's trash: where its doomed blobs go, deleted together after the commit. */
export class TrashBatch {
  readonly key = randomBytes(8).toString('hex');

  constructor(
    private readonly storage: StorageDriver,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * Moves blobs out of their places into this batch, side by side once the first has made
   * the batch's directory; per blob, true when moved and false when it was absent.
   */
  async moveOut(digests: readonly Digest[]): Promise<Array<PromiseSettledResult<boolean>>> {
    const move = (digest: Digest) => this.blobs.moveOut(digest, gcTrashPath(this.key, digest));
    const first = await settleBounded(digests.slice(0, 1), 1, move);
    return [...first, ...(await settleBounded(digests.slice(1), STORAGE_CONCURRENCY, move))];
  }

  /** Puts blobs this batch moved out back in their places (a push claimed them meanwhile, gc-condemned.ts). */
  async putBack(digests: readonly Digest[]): Promise<void> {
    const results = await settleBounded(digests, STORAGE_CONCURRENCY, (digest) => this.blobs.moveBack(gcTrashPath(this.key, digest), digest));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Deletes the batch (only once the transaction that moved its blobs is durable). */
  async empty(): Promise<void> {
    // One call for the whole batch: the driver walks it (a delete per entry would stat each first).
    await this.storage.delete(gcTrashBatchDirectory(this.key)).catch((err: unknown) => {
      if (!(err instanceof PathNotFoundError)) throw err;
    });
  }
}

/** The trash of one store, or null where the store cannot rename (the collector then deletes in place). */
export class BlobTrash {
  private constructor(
    private readonly storage: StorageDriver,
    private readonly blobs: BlobStore,
  ) {}

  static of(storage: StorageDriver, blobs: BlobStore): BlobTrash | null {
    return storage.rename && blobs.canMoveOut ? new BlobTrash(storage, blobs) : null;
  }

  batch(): TrashBatch {
    return new TrashBatch(this.storage, this.blobs);
  }

  /** Puts back what earlier runs left (see the top of this file); returns how many blobs went back. */
  async restore(logger: Logger): Promise<number> {
    let restored = 0;
    for (const batch of await listOrEmpty(this.storage, gcTrashRoot())) {
      const entries = await listOrEmpty(this.storage, batch);
      const results = await settleBounded(entries, STORAGE_CONCURRENCY, async (entry) => {
        const digest = digestOfGcTrashPath(entry);
        return digest ? this.blobs.moveBack(entry, digest) : false;
      });
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      restored += results.filter((result) => result.status === 'fulfilled' && result.value).length;
      // What was not put back is a copy of bytes in place again (or nothing a collector made).
      await this.storage.delete(batch).catch((err: unknown) => {
        if (!(err instanceof PathNotFoundError)) throw err;
      });
    }
    if (restored > 0) logger.info({ restored }, 'garbage collection put back blobs an interrupted run had moved aside');
    return restored;
  }
}
