/**
 * Keeps a noisy machine visible in the report: before the run and before each scenario,
 * reads the 1-minute load average and, while it is above a threshold, waits (up to a
 * limit) for it to drop. It never refuses to run: past the limit it goes on, warns and
 * records it, so the report header shows which figures were taken under load. The bench's
 * own previous scenario counts in the average too, so the wait also lets it settle.
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 2000;

/** One check: what the load was, how long the guard waited, and whether it stayed above. */
export interface LoadCheck {
  /** 'start' or the id of the scenario about to run. */
  before: string;
  load: number;
  waitedSeconds: number;
  loadAfter: number;
  stillAbove: boolean;
}

/** The guard's settings and every check it made, for the report. */
export interface LoadGuardRecord {
  maxLoad: number;
  waitSeconds: number;
  checks: LoadCheck[];
}

/** Waits for the 1-minute load average to fall to `maxLoad`, at most `waitSeconds` each time. */
export class LoadGuard {
  readonly record: LoadGuardRecord;

  constructor(maxLoad: number, waitSeconds: number, private readonly log: (line: string) => void, private readonly stop: AbortSignal) {
    this.record = { maxLoad, waitSeconds, checks: [] };
  }

  /** Checks the load before `before` runs, waiting while it is too high. */
  async settle(before: string): Promise<void> {
    const { maxLoad, waitSeconds } = this.record;
    const load = loadavg()[0];
    const began = Date.now();
    let current = load;
    if (current > maxLoad) this.log(`  load average ${current.toFixed(2)} > ${maxLoad} before ${before}: waiting up to ${waitSeconds} s`);
    while (current > maxLoad && Date.now() - began < waitSeconds * 1000 && !this.stop.aborted) {
      await sleep(Math.min(POLL_MS, waitSeconds * 1000 - (Date.now() - began)));
      current = loadavg()[0];
    }
    const check: LoadCheck = { before, load, waitedSeconds: (Date.now() - began) / 1000, loadAfter: current, stillAbove: current > maxLoad };
    this.record.checks.push(check);
    if (check.stillAbove) this.log(`  WARNING: load average still ${current.toFixed(2)} > ${maxLoad} after ${Math.round(check.waitedSeconds)} s; going on (noted in the report)`);
  }
}

/** One line for the report header: settings, total wait, and where the load stayed too high. */
export function loadGuardSummary(record: LoadGuardRecord): string {
  const waited = record.checks.reduce((sum, c) => sum + c.waitedSeconds, 0);
  const above = record.checks.filter((c) => c.stillAbove);
  const settings = `1-minute load average at most ${record.maxLoad}, waiting up to ${record.waitSeconds} s before the run and each scenario; waited ${Math.round(waited)} s in all`;
  if (above.length === 0) return `${settings}; the load was within the limit before every scenario`;
  const list = above.map((c) => `${c.before} (${c.loadAfter.toFixed(1)})`).join(', ');
  return `${settings}; WARNING: still above the limit before ${above.length} of ${record.checks.length} checks: ${list}`;
}
