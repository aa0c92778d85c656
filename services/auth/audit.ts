/**
 * The token endpoint's audit writer. Every issued (or refused) token is audited before the
 * response goes out, but one INSERT per request would cap throughput at the database's
 * commit rate. Entries that arrive while a write is in flight are committed together in
 * the next write (group commit), and under load many requests share one commit.
 *
 * Those commits do not wait for an fsync (AuditStore.appendDeferred): an fsync takes
 * milliseconds and, with SQLite, blocks the event loop, which capped the endpoint far below
 * its target. Each caller waits until its entry is committed, so it survives a crash of
 * this process at once; a sync at most SYNC_DELAY_MS later makes it survive a power loss.
 * Admin changes do not use this; they write their audit entry inside the transaction that
 * makes the change, with a full fsync.
 */
import type { AuditEntry, AuditStore } from './store/audit.js';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Largest batch per INSERT (keeps statements well under SQLite's variable limit). */
const MAX_BATCH = 200;
/** Deferred commits are synced to disk this long after the first of them. */
const SYNC_DELAY_MS = 1000;

/** Batches audit entries into shared commits. */
export class AuditLog {
  private pending: Pending[] = [];
  private draining: Promise<void> | null = null;
  private syncTimer: NodeJS.Timeout | null = null;

  constructor(private readonly store: AuditStore) {}

  /** Resolves once `entry` is committed; rejects when the write failed. */
  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      // Let the requests of this turn of the event loop join the first batch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await this.store.appendDeferred(batch.map((p) => p.entry));
          this.scheduleSync();
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      // A failed sync (the database closing) leaves the entries committed; closing the
      // database, the next sync or any ordinary commit makes them durable.
      this.store.syncDeferred().catch(() => undefined);
    }, SYNC_DELAY_MS);
    this.syncTimer.unref();
  }
}
