/**
 * The token endpoint's audit writer. Every issued (or refused) token is audited before the
 * response goes out, but one INSERT per request would cap throughput at the database's
 * commit rate. Entries that arrive while a write is in flight are committed together in
 * the next write (group commit): each caller still waits for its own entry to be durable,
 * and under load many requests share one commit. Admin changes do not use this; they write
 * their audit entry inside the transaction that makes the change.
 */
import type { AuditEntry, AuditStore } from './store/audit.js';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Largest batch per INSERT (keeps statements well under SQLite's variable limit). */
const MAX_BATCH = 200;

/** Batches audit entries into shared commits. */
export class AuditLog {
  private pending: Pending[] = [];
  private draining: Promise<void> | null = null;

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
          await this.store.append(batch.map((p) => p.entry));
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
