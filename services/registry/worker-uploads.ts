/**
 * Upload sessions served by several cluster workers (DOCKYARD_WORKERS > 1). UploadManager
 * orders the requests of one session inside its process and checks a chunk's offset against
 * the size on disk, but two workers could both read the same size and both append. Here
 * every operation that writes a session also holds the session's cluster-wide lock, so the
 * later of two PATCHes at one offset sees the earlier one's bytes and gets 416 with the
 * current Range instead of interleaving with them.
 */
import { clusterMutex } from '../../shared/cluster-mutex.js';
import { UploadManager } from './storage/uploads.js';

/** UploadManager whose session writes exclude each other across the workers of a cluster. */
export class ClusterUploadManager extends UploadManager {
  private readonly mutex = clusterMutex();

  override append(...args: Parameters<UploadManager['append']>): ReturnType<UploadManager['append']> {
    const [, id] = args;
    return this.mutex.run(id, () => super.append(...args));
  }

  override complete(...args: Parameters<UploadManager['complete']>): ReturnType<UploadManager['complete']> {
    const [, id] = args;
    return this.mutex.run(id, () => super.complete(...args));
  }

  override cancel(...args: Parameters<UploadManager['cancel']>): ReturnType<UploadManager['cancel']> {
    const [, id] = args;
    return this.mutex.run(id, () => super.cancel(...args));
  }
}
