/**
 * Turns measured rounds into the report (plain text for the terminal, markdown and JSON
 * for files): the run's facts, the comparison tables of tables.ts, scenario legend and
 * notes. The JSON holds every summary figure, including the load generator's own CPU.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetName } from './scenarios/types.js';
import { loadGuardSummary, type LoadGuardRecord } from './load-guard.js';
import { markdownTables, significant, specFor, summarize, type ScenarioOutcome, type TargetOutcome } from './tables.js';

export { scenarioLine, textTable, type ScenarioOutcome, type TargetOutcome } from './tables.js';

/** Facts about the run printed above the table. */
export interface RunInfo {
  command: string;
  startedAt: string;
  /** Wall time from the first scenario's setup to the last scenario's end. */
  scenarioSeconds: number;
  profile: string;
  auth: 'none' | 'token';
  machine: { nproc: number; cpuModel: string; node: string; distribution: string; kernel: string };
  /** 1-minute load average when the scenarios started and ended (other work on the machine shows here). */
  loadAverage: { start: number; end: number };
  /** What the load guard saw and did before the run and each scenario; absent when it was off. */
  loadGuard?: LoadGuardRecord;
  /** DOCKYARD_WORKERS given to Dockyard's services (--workers), if any. */
  workers?: number;
  /** Peak RSS (VmHWM) of each server's process tree at the end of the run, MiB. */
  serverPeakRssMiB: Partial<Record<TargetName | 'auth', number>>;
  notes: string[];
}

/** The run's notes followed by every per-scenario note, skip and failure. */
export function reportNotes(info: RunInfo, outcomes: ScenarioOutcome[]): string[] {
  const notes: string[] = [...info.notes];
  for (const o of outcomes) {
    for (const [target, result] of Object.entries(o.targets) as Array<[TargetName, TargetOutcome]>) {
      if (result.reason) notes.push(`${o.id} on ${target}: ${result.status}: ${result.reason}`);
      for (const note of result.notes) notes.push(`${o.id} on ${target}: ${note}`);
      if (result.status === 'ok') {
        const share = summarize(o.unit, result.rounds).clientCpuShare;
        if (share > 0.9) notes.push(`${o.id} on ${target}: the bench process was ${Math.round(share * 100)}% busy; the figure may be client-bound`);
      }
    }
  }
  return notes;
}

/** The markdown report: run facts, the table, per-server peak memory, scenario legend and notes. */
export function markdownReport(info: RunInfo, outcomes: ScenarioOutcome[]): string {
  const rss = Object.entries(info.serverPeakRssMiB).map(([name, value]) => `${name} ${significant(value ?? NaN)} MiB`);
  return [
    `# Dockyard vs CNCF distribution — ${info.profile} run, auth ${info.auth}`,
    '',
    `- command: \`${info.command}\``,
    `- started: ${info.startedAt}; scenarios took ${Math.round(info.scenarioSeconds)} s including setup and seeding`,
    `- machine: ${info.machine.nproc} CPUs (${info.machine.cpuModel}), kernel ${info.machine.kernel}, node ${info.machine.node}, distribution ${info.machine.distribution}`,
    `- 1-minute load average: ${info.loadAverage.start.toFixed(1)} at the start, ${info.loadAverage.end.toFixed(1)} at the end`,
    ...(info.loadGuard ? [`- load guard: ${loadGuardSummary(info.loadGuard)}`] : ['- load guard: off']),
    ...(info.workers !== undefined ? [`- Dockyard services started with DOCKYARD_WORKERS=${info.workers}`] : []),
    `- peak RSS per server over the whole run (VmHWM of its process tree): ${rss.join(', ') || 'n/a'}`,
    '',
    ...markdownTables(outcomes),
    'Throughput is per second of wall time over all rounds; p50/p99 are per operation (one blob, manifest, walk, image or login).',
    'CPU/req is server CPU time (user + system of the process tree, from /proc) divided by HTTP requests sent; lower is better.',
    'Peak RSS in the table is the highest sampled VmRSS of the server process tree during that scenario; lower is better.',
    '',
    '## Scenarios',
    '',
    ...outcomes.map((o) => `- \`${o.id}\`: ${o.description}`),
    '',
    '## Notes',
    '',
    ...reportNotes(info, outcomes).map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/** Writes the markdown report to `path` (.md) and the detailed figures next to it (.json). */
export function writeReports(path: string, info: RunInfo, outcomes: ScenarioOutcome[]): { markdown: string; json: string } {
  const markdown = path.endsWith('.md') ? path : `${path}.md`;
  const json = markdown.replace(/\.md$/, '.json');
  mkdirSync(dirname(markdown), { recursive: true });
  writeFileSync(markdown, markdownReport(info, outcomes));
  const detailed = outcomes.map((o) => ({
    id: o.id,
    description: o.description,
    comparison: o.on,
    columns: specFor(o.on).columns,
    targets: Object.fromEntries(
      Object.entries(o.targets).map(([t, r]) => [t, { status: r.status, reason: r.reason, notes: r.notes, rounds: r.rounds.length, summary: r.status === 'ok' ? summarize(o.unit, r.rounds) : undefined }]),
    ),
  }));
  writeFileSync(json, `${JSON.stringify({ info, scenarios: detailed }, null, 2)}\n`);
  return { markdown, json };
}
