/**
 * Garbage collection started over the admin API (routes/gc-admin.ts): one run at a time
 * per registry process, in the background, so the request that starts it returns at once
 * and a run over a large store is not tied to an HTTP timeout. What the API shows (the
 * run under way, the last finished one with what it reported) lives in this process's
 * memory: a restart forgets it, which loses nothing, because a collection killed midway
 * leaves every deletion either done or not started (gc.ts) and the next run finds the rest.
 */
import type { Knex } from 'knex';
import type { Logger } from '../../../shared/observability/logger.js';
import { fail } from '../../../shared/http/errors.js';
import type { GarbageCollector, GcReport } from './gc.js';

/** Items of each kind a stored report keeps (the counts are always whole). */
export const GC_REPORT_ITEMS = 100;

/** A report with its item lists cut to GC_REPORT_ITEMS and the full counts beside them. */
export interface GcRunSummary {
  dryRun: boolean;
  counts: { manifests: number; links: number; blobs: number };
  manifests: GcReport['manifests'];
  links: GcReport['links'];
  blobs: GcReport['blobs'];
  bytesFreed: number;
  durationMs: number;
}

export interface GcRunState {
  dryRun: boolean;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  /** Set when the run finished; null while it runs or when it failed. */
  report: GcRunSummary | null;
  error: string | null;
}

function summarize(report: GcReport): GcRunSummary {
  return {
    dryRun: report.dryRun,
    counts: { manifests: report.manifests.length, links: report.links.length, blobs: report.blobs.length },
    manifests: report.manifests.slice(0, GC_REPORT_ITEMS),
    links: report.links.slice(0, GC_REPORT_ITEMS),
    blobs: report.blobs.slice(0, GC_REPORT_ITEMS),
    bytesFreed: report.bytesFreed,
    durationMs: report.durationMs,
  };
}

export class GcRuns {
  private current: GcRunState | null = null;
  private last: GcRunState | null = null;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly collector: () => GarbageCollector,
    private readonly logger: Logger,
    /** Where a finished run (not a dry run: it changes nothing) is recorded in the lifecycle audit log. */
    private readonly db: Knex,
  ) {}

  /** The run under way and the last finished one. */
  status(): { running: GcRunState | null; last: GcRunState | null } {
    return { running: this.current, last: this.last };
  }

  /** Starts a run in the background; CONFLICT while one started here is under way. */
  start(dryRun: boolean, actor: string): GcRunState {
    if (this.current) throw fail('CONFLICT', `a garbage collection started at ${this.current.startedAt} is still running`);
    const state: GcRunState = { dryRun, actor, startedAt: new Date().toISOString(), finishedAt: null, report: null, error: null };
    this.current = state;
    this.running = this.collector()
      .run({ dryRun, signal: this.abort.signal })
      .then(
        (report) => {
          state.report = summarize(report);
        },
        (err: unknown) => {
          state.error = (err as Error).message;
          this.logger.error({ err }, 'garbage collection started over the admin API failed');
        },
      )
      .then(() => (dryRun ? undefined : this.audit(state)))
      .finally(() => {
        state.finishedAt = new Date().toISOString();
        this.last = state;
        this.current = null;
        this.running = null;
      });
    return state;
  }

  private async audit(state: GcRunState): Promise<void> {
    const details = state.report ? { ...state.report.counts, bytesFreed: state.report.bytesFreed } : { error: state.error };
    try {
      await this.db('lifecycle_audit').insert({ at: new Date(), actor: state.actor, action: 'gc.run', target: 'gc', details: JSON.stringify(details) });
    } catch (err) {
      this.logger.error({ err }, 'recording a garbage collection run in the audit log failed');
    }
  }

  /** Ends a run under way at its next batch boundary and waits for it (a stopping registry). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
