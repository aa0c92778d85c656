/**
 * Durable SQLite commits without blocking the event loop. better-sqlite3 is synchronous,
 * so with `synchronous = FULL` every commit's fsync of the write-ahead log stalls every
 * request of the process for milliseconds, and concurrent writers pay one fsync each.
 *
 * With `synchronous = NORMAL` a commit only write()s its WAL frames; SQLite itself syncs the
 * log before each checkpoint and the database after it. What FULL adds is one sync of the
 * log after each commit, and that is what WalSync does instead, on libuv's thread pool: a
 * writer commits, then awaits `flush()` before it acknowledges anything. fsync is per file,
 * so a sync through our own descriptor covers every frame written through SQLite's, and
 * one sync covers every commit made before it started (group commit): concurrent writers
 * share it. Other connections can read a commit before its sync completes; only its
 * writer's acknowledgement waits, so nothing acknowledged can be lost to a power cut.
 */
import { open } from 'node:fs/promises';

/** Group fdatasync of one SQLite database's write-ahead log. */
export class WalSync {
  private readonly walFile: string;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  /**
   * `databaseFile` is the SQLite file; its log is `<databaseFile>-wal`. `syncFile` replaces
   * the fdatasync (tests count and fail syncs with it).
   */
  constructor(
    databaseFile: string,
    private readonly syncFile: (path: string) => Promise<void> = datasyncIfPresent,
  ) {
    this.walFile = `${databaseFile}-wal`;
  }

  /** Resolves when everything committed before this call is on disk; rejects when the sync failed. */
  flush(): Promise<void> {
    if (this.running === null) return this.start();
    // The sync in flight may have started before the caller's commit, so the caller needs
    // the next one; everyone arriving meanwhile shares it.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = null;
    return this.start();
  }

  private start(): Promise<void> {
    const sync = this.syncFile(this.walFile).finally(() => {
      if (this.running === sync) this.running = null;
    });
    this.running = sync;
    return sync;
  }
}

/** fdatasync of `path`; nothing to do when the file does not exist. */
async function datasyncIfPresent(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    // No log: SQLite checkpointed it into the database file (syncing that file) and removed it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
