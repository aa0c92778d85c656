/**
 * "Last pulled" per tag and per manifest, for retention policies that count pulls
 * (retention.ts). A pull must not wait for a database write, so a manifest GET or HEAD only
 * notes the time in memory (the latest per tag or digest; one entry per distinct pulled
 * reference, however often it is pulled) and the notes are written in one transaction
 * every flush interval and when the registry stops. A crash loses at most the pulls of one
 * interval; a pull time only ever keeps a tag, so a lost one can make retention remove a
 * tag later than it would have, never earlier. Each process of a cluster keeps its own
 * notes; writes only move a time forward, so their order does not matter.
 */
import type { Knex } from 'knex';
import type { Logger } from '../../../shared/observability/logger.js';

/** How often pull times are written (ms). */
export const PULL_FLUSH_INTERVAL_MS = 30_000;
/** Notes held before a write is started early, bounding memory under pulls of many distinct references. */
const MAX_PENDING = 10_000;
/** Rows updated per statement batch inside one flush transaction. */
const FLUSH_CHUNK = 500;

type Key = `${'tag' | 'manifest'}\u0000${string}\u0000${string}`;

/** Batches pull times and writes them to the registry database. */
export class PullTimes {
  private pending = new Map<Key, number>();
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts writing every `intervalMs` (the timer never keeps the process alive). */
  start(intervalMs = PULL_FLUSH_INTERVAL_MS): this {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Notes a pull of `repository` by tag or by digest, now. */
  pulled(repository: string, reference: { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string }): void {
    const key: Key = reference.kind === 'tag' ? `tag\u0000${repository}\u0000${reference.tag}` : `manifest\u0000${repository}\u0000${reference.digest}`;
    this.pending.set(key, Math.floor(this.clock()));
    if (this.pending.size >= MAX_PENDING) void this.flush();
  }

  /** Writes what is noted (after any write in progress); failures are logged and the notes dropped. */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.writing = this.writing.then(() => (batch.size === 0 ? undefined : this.write(batch)));
    return this.writing;
  }

  /** Stops the timer and writes what is noted. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(batch: Map<Key, number>): Promise<void> {
    const entries = [...batch].map(([key, at]) => {
      const [kind, repository, name] = key.split('\u0000') as ['tag' | 'manifest', string, string];
      return { kind, repository, name, at };
    });
    try {
      for (let start = 0; start < entries.length; start += FLUSH_CHUNK) {
        await this.db.transaction(async (trx) => {
          for (const { kind, repository, name, at } of entries.slice(start, start + FLUSH_CHUNK)) {
            const table = kind === 'tag' ? 'tags' : 'manifests';
            await trx(table)
              .update({ last_pulled_ms: at })
              .where('repository_id', trx('repositories').select('id').where('name', repository))
              .andWhere(kind === 'tag' ? 'name' : 'digest', name)
              .andWhere((q) => q.whereNull('last_pulled_ms').orWhere('last_pulled_ms', '<', at));
          }
        });
      }
    } catch (err) {
      this.logger.warn({ err, entries: entries.length }, 'could not record pull times; retention by pulls keeps those tags longer');
    }
  }
}
