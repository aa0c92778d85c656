/**
 * Condemned digests: the collector's claim on bytes it has decided to remove but has not yet
 * moved out of /blobs. Moving them inside the deciding transaction held SQLite's write lock
 * for the whole page's renames, and every push waited behind it (docs/performance.md,
 * "fifth round"); so on stores with a trash the transaction only marks the page's digests,
 * the moves follow the commit, and a second short transaction ends the marks
 * (gc-bytes.ts). For the duration, a marked digest counts as already gone: a push waits
 * for the mark to end before it puts bytes in place or links them (push-guard.ts), and a
 * push transaction that still finds a mark refuses, as when the collector wins today.
 *
 * A mark whose collector died (SIGKILL between the commit and the end of the page) would
 * hold its digests forever, so a mark older than CONDEMNED_STALE_MS no longer counts: the
 * push that meets it deletes it and goes on. A collector that was merely stalled that long
 * learns this when it ends the page (release() does not find the mark) and puts those
 * bytes back instead of deleting them. See docs/architecture.md for the whole argument.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';

/** A mark older than this is taken for one whose collector died. A page's moves take milliseconds. */
export const CONDEMNED_STALE_MS = 60_000;
/** How long a push waits for a mark to end before it answers 503 (a live collector ends it within a page). */
const AWAIT_DEADLINE_MS = 5_000;
const AWAIT_POLL_MS = 5;
/** The gc_condemned table. */
export class CondemnedMarks {
  constructor(private readonly db: Knex) {}

  /**
   * Marks `digests` as being moved out by `batch` (inside the deciding transaction). A mark
   * of another batch is taken over: usually a killed run's, whose bytes the trash restore
   * put back and the sweep queued again. Were its collector alive, it would find its mark
   * gone at release and put its copy back, which only adds bytes.
   */
  async condemn(trx: Knex.Transaction, digests: readonly string[], batch: string, nowMs: number): Promise<void> {
    const unique = [...new Set(digests)].sort();
    if (unique.length === 0) return;
    // One statement: a page (gc.ts, 100 digests) is bound whole by the page's other queries too.
    await trx('gc_condemned')
      .insert(unique.map((digest) => ({ digest, batch, condemned_at_ms: nowMs })))
      .onConflict('digest')
      .merge(['batch', 'condemned_at_ms']);
  }

  /**
   * Inside a push's transaction, holding the digests' locks: deletes the stale marks among
   * `digests` (their collector puts the bytes back when it finds them gone) and returns the
   * digests still condemned.
   */
  async condemnedAmong(trx: Knex.Transaction, digests: readonly string[], nowMs: number): Promise<Set<string>> {
    const unique = [...new Set(digests)];
    if (unique.length === 0) return new Set();
    const rows: Array<{ digest: string; condemned_at_ms: unknown }> = await trx('gc_condemned').select('digest', 'condemned_at_ms').whereIn('digest', unique);
    const stale = rows.filter((row) => Number(row.condemned_at_ms) <= nowMs - CONDEMNED_STALE_MS).map((row) => row.digest);
    if (stale.length > 0) await trx('gc_condemned').whereIn('digest', stale).del();
    return new Set(rows.map((row) => row.digest).filter((digest) => !stale.includes(digest)));
  }

  /**
   * Outside any transaction: waits until no fresh mark is left among `digests`; false when
   * one outlives the deadline. After true, no collector is moving these digests; a new mark
   * can only follow a review that is due, which a touch just before postponed.
   */
  async awaitNone(digests: readonly string[], clock: () => number): Promise<boolean> {
    const unique = [...new Set(digests)];
    if (unique.length === 0) return true;
    const deadline = clock() + AWAIT_DEADLINE_MS;
    for (;;) {
      const fresh = await this.db('gc_condemned').first('digest').whereIn('digest', unique).andWhere('condemned_at_ms', '>', clock() - CONDEMNED_STALE_MS);
      if (!fresh) return true;
      if (clock() >= deadline) return false;
      await sleep(AWAIT_POLL_MS);
    }
  }

  /**
   * Ends `batch`'s marks and returns the digests whose mark was still there: the others were
   * taken for stale by a push, whose bytes the collector must put back.
   */
  async release(trx: Knex.Transaction, batch: string): Promise<Set<string>> {
    // FOR UPDATE: a push deleting one of these marks as stale either commits first (the row is
    // then not read) or waits for this commit, after which its stat sees the moved bytes gone.
    // SQLite's write lock, held since BEGIN IMMEDIATE, serialises the two the same way.
    const marks = trx('gc_condemned').select('digest').where('batch', batch);
    const rows: Array<{ digest: string }> = await (trx.client.dialect === 'postgresql' ? marks.forUpdate() : marks);
    if (rows.length > 0) await trx('gc_condemned').where('batch', batch).del();
    return new Set(rows.map((row) => row.digest));
  }

  /** Deletes the stale marks (a run's start); their collectors, if alive, put the bytes back. */
  async purgeStale(nowMs: number): Promise<number> {
    return this.db('gc_condemned').where('condemned_at_ms', '<=', nowMs - CONDEMNED_STALE_MS).del();
  }
}
