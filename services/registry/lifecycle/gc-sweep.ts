/**
 * The storage half of garbage collection: walks /blobs one fan-out directory at a time and
 * queues every stored digest that nothing references and no review row covers (bytes left
 * by a DELETE, by a crash between an upload's move and its link, or stored before GC
 * existed). A queued digest is due at its bytes' modification time plus the grace period;
 * the collector deletes it later, after its own re-check. The walk's position is saved
 * after each directory, so a stopped or killed sweep resumes where it was.
 */
import type { Digest } from '../../../shared/grammar/reference.js';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.js';
import { blobDataPath, blobsRoot, digestOfBlobDirectory } from '../storage/paths.js';
import { settleBounded, STORAGE_CONCURRENCY } from './bounded.js';
import type { GcStore } from './gc-store.js';

const CURSOR = 'sweep.after';

/** An unreferenced stored blob the sweep found. */
export interface OrphanBlob {
  digest: Digest;
  /** When its review is due (epoch ms). */
  dueMs: number;
  size: number;
}

/** The entries of a directory of the store, none when it does not exist. */
export async function listOrEmpty(storage: StorageDriver, path: string): Promise<string[]> {
  try {
    return await storage.list(path);
  } catch (err) {
    if (err instanceof PathNotFoundError) return [];
    throw err;
  }
}

/** The fan-out directories (`/blobs/<algorithm>/<xx>`) in a stable order. */
async function fanOutDirectories(storage: StorageDriver): Promise<string[]> {
  const directories: string[] = [];
  for (const algorithm of await listOrEmpty(storage, blobsRoot())) directories.push(...(await listOrEmpty(storage, algorithm)));
  return directories.sort();
}

/** Walks storage for orphaned blobs; `queue: false` only reports them (dry run). */
export class StorageSweep {
  constructor(
    private readonly storage: StorageDriver,
    private readonly gc: GcStore,
    private readonly graceMs: number,
  ) {}

  /**
   * Sweeps every fan-out directory after the saved cursor (all of them when none is saved),
   * calling `found` for each orphan; the cursor resets when the walk completes.
   */
  async run(options: { queue: boolean; found: (orphan: OrphanBlob) => void; yieldEvery?: () => Promise<void>; stopped?: () => boolean }): Promise<void> {
    const after = options.queue ? ((await this.gc.getState(CURSOR)) ?? '') : '';
    for (const directory of await fanOutDirectories(this.storage)) {
      if (directory <= after) continue;
      // Stopped: the saved cursor is where the next run resumes.
      if (options.stopped?.()) return;
      await this.sweepDirectory(directory, options);
      if (options.queue) await this.gc.setState(CURSOR, directory);
      await options.yieldEvery?.();
    }
    if (options.queue) await this.gc.setState(CURSOR, '');
  }

  private async sweepDirectory(directory: string, options: { queue: boolean; found: (orphan: OrphanBlob) => void }): Promise<void> {
    const digests = (await listOrEmpty(this.storage, directory)).map(digestOfBlobDirectory).filter((d): d is Digest => d !== null);
    const values = digests.map((d) => d.value);
    const referenced = await this.gc.referencedAmong(this.gc.db, values);
    const reviewed = await this.gc.reviewedAmong(this.gc.db, values);
    const unreferenced = digests.filter((digest) => !referenced.has(digest.value) && !reviewed.has(digest.value));
    const stats = await settleBounded(unreferenced, STORAGE_CONCURRENCY, (digest) => this.storage.stat(blobDataPath(digest)));
    const orphans: OrphanBlob[] = [];
    stats.forEach((result, index) => {
      if (result.status === 'fulfilled') {
        orphans.push({ digest: unreferenced[index]!, dueMs: result.value.modTime.getTime() + this.graceMs, size: result.value.size });
      } else if (!(result.reason instanceof PathNotFoundError)) {
        throw result.reason;
      }
    });
    // One statement per directory: the rows of one walk are what makes a large sweep slow.
    if (options.queue) await this.gc.enqueueEach(this.gc.db, orphans.map((o) => ({ digest: o.digest.value, reviewAfterMs: o.dueMs })));
    for (const orphan of orphans) options.found(orphan);
  }
}
