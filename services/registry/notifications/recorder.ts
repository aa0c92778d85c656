/**
 * What the request handlers call. Changes (push, delete, mount, a tag move) append their
 * events to the outbox inside the change's own transaction, so an event exists exactly when
 * its change committed. Pulls change nothing: their events are buffered in memory and
 * appended in batches (every second or every 200 events) outside the request, so a pull
 * waits for no write; a crash loses at most the pulls of the last second. Pull events are
 * buffered only while some enabled endpoint wants them (checked every few seconds).
 */
import type { Knex } from 'knex';
import type { Logger } from '../../../shared/observability/logger.js';
import type { Tx } from '../metadata/store.js';
import type { RegistryEvent } from './events.js';
import type { OutboxStore } from './outbox-store.js';

const PULL_FLUSH_MS = 1_000;
const PULL_BATCH = 200;
/** Pulls beyond this many waiting for a flush are dropped (the database is not keeping up): pulls never wait. */
const PULL_BUFFER_MAX = 10_000;
const WANTS_PULLS_REFRESH_MS = 5_000;

export class NotificationRecorder {
  private pulls: RegistryEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  // Until the first look at the endpoints: buffered (an unwanted pull event costs a row, a lost one cannot be had back).
  private pullsWanted = true;
  private checkedAt = 0;
  private listeners: Array<() => void> = [];
  dropped = 0;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly logger: Logger,
  ) {}

  /** Appends the events of a change; call inside the change's transaction. */
  async record(tx: Tx, events: readonly RegistryEvent[]): Promise<void> {
    await this.outbox.append(tx as Knex.Transaction, events);
  }

  /** Appends a `stale` event whose dependents the dispatcher fills in after the commit. */
  async recordStale(tx: Tx, event: RegistryEvent): Promise<void> {
    await this.outbox.append(tx as Knex.Transaction, [event], false);
  }

  /** After a change committed: the dispatcher (when in this process) looks at once instead of at its next tick. */
  committed(): void {
    for (const listener of this.listeners) listener();
  }

  onCommitted(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** A pull happened: buffered, never awaited by the request. */
  pulled(event: () => RegistryEvent): void {
    if (Date.now() - this.checkedAt > WANTS_PULLS_REFRESH_MS) void this.refreshPullInterest();
    if (!this.pullsWanted) return;
    if (this.pulls.length >= PULL_BUFFER_MAX) {
      this.dropped++;
      return;
    }
    this.pulls.push(event());
    if (this.pulls.length >= PULL_BATCH) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), PULL_FLUSH_MS).unref();
  }

  /** Looks again whether some endpoint wants pull events (after the endpoints changed). */
  async refreshPullInterest(): Promise<void> {
    this.checkedAt = Date.now();
    try {
      const rows: Array<{ ignored_actions: string }> = await this.outbox.db('notification_endpoints').select('ignored_actions').where('disabled', false);
      this.pullsWanted = rows.some((r) => !(JSON.parse(r.ignored_actions) as string[]).includes('pull'));
    } catch (err) {
      this.logger.warn({ err }, 'notifications: could not read the endpoints');
    }
  }

  /** Appends the buffered pull events (one INSERT per batch); also called on stop. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(async () => {
      while (this.pulls.length > 0) {
        const batch = this.pulls.splice(0, PULL_BATCH);
        try {
          await this.outbox.append(this.outbox.db, batch);
        } catch (err) {
          this.logger.warn({ err, events: batch.length }, 'notifications: pull events lost (outbox write failed)');
        }
      }
      this.committed();
    });
    return this.flushing;
  }
}
