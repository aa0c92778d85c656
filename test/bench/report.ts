/**
 * Turns measured rounds into the one comparison table (plain text for the terminal,
 * markdown and JSON for files). Throughput ratios are Dockyard / distribution, so higher
 * is better for Dockyard; CPU per request and memory are shown raw (lower is better).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { mib } from './content.js';
import { quantile } from './load.js';
import type { Measured, TargetName, Unit } from './scenarios/types.js';

/** What happened to one scenario on one target. */
export interface TargetOutcome {
  status: 'ok' | 'skipped' | 'failed' | 'not run';
  /** Why it was skipped or failed. */
  reason?: string;
  notes: string[];
  rounds: Measured[];
}

/** One scenario's outcome on every target. */
export interface ScenarioOutcome {
  id: string;
  description: string;
  unit: Unit;
  latency: boolean;
  targets: Record<TargetName, TargetOutcome>;
}

/** Aggregated figures of one scenario on one target. */
export interface Summary {
  rate: number;
  unit: Unit;
  ops: number;
  requests: number;
  seconds: number;
  mibMoved: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMsPerRequest: number;
  clientCpuShare: number;
  peakRssMiB: number;
}

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
  /** Peak RSS (VmHWM) of each server's process tree at the end of the run, MiB. */
  serverPeakRssMiB: Partial<Record<TargetName | 'auth', number>>;
  notes: string[];
}

const TARGETS: TargetName[] = ['dockyard', 'distribution'];

/** Aggregates rounds: totals over all rounds, latency quantiles over all ops. */
export function summarize(unit: Unit, rounds: Measured[]): Summary {
  const sum = (pick: (m: Measured) => number) => rounds.reduce((total, m) => total + pick(m), 0);
  const seconds = sum((m) => m.seconds);
  const ops = sum((m) => m.ops);
  const bytes = sum((m) => m.bytes);
  const requests = sum((m) => m.requests);
  const latencies = rounds.flatMap((m) => m.latenciesMs);
  return {
    rate: unit === 'MiB/s' ? mib(bytes) / seconds : ops / seconds,
    unit,
    ops,
    requests,
    seconds,
    mibMoved: mib(bytes),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    serverCpuMsPerRequest: requests > 0 ? sum((m) => m.cpuMs) / requests : NaN,
    clientCpuShare: seconds > 0 ? sum((m) => m.clientCpuMs) / (seconds * 1000) : NaN,
    peakRssMiB: mib(Math.max(0, ...rounds.map((m) => m.peakRssBytes))),
  };
}

function significant(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

function outcomeCell(outcome: ScenarioOutcome, target: TargetName): string {
  const result = outcome.targets[target];
  if (result.status !== 'ok') return result.status === 'not run' ? 'n/a' : `${result.status.toUpperCase()}`;
  const s = summarize(outcome.unit, result.rounds);
  const rate = `${significant(s.rate)} ${s.unit}`;
  return outcome.latency ? `${rate} (p50 ${significant(s.p50Ms)} ms, p99 ${significant(s.p99Ms)} ms)` : rate;
}

function ratioCell(outcome: ScenarioOutcome): string {
  const [a, b] = TARGETS.map((t) => outcome.targets[t]);
  if (a.status !== 'ok' || b.status !== 'ok') return 'n/a';
  return `${significant(summarize(outcome.unit, a.rounds).rate / summarize(outcome.unit, b.rounds).rate, 2)}x`;
}

function perTargetCell(outcome: ScenarioOutcome, target: TargetName, pick: (s: Summary) => string): string {
  const result = outcome.targets[target];
  return result.status === 'ok' ? pick(summarize(outcome.unit, result.rounds)) : '-';
}

const HEADER = [
  'scenario',
  'Dockyard',
  'distribution',
  'ratio D/d (throughput, >1 = Dockyard faster)',
  'Dockyard CPU/req',
  'distribution CPU/req',
  'Dockyard peak RSS',
  'distribution peak RSS',
];

/** Table rows as cells, header first. */
export function tableRows(outcomes: ScenarioOutcome[]): string[][] {
  const cpu = (s: Summary) => `${significant(s.serverCpuMsPerRequest)} ms`;
  const rss = (s: Summary) => `${significant(s.peakRssMiB)} MiB`;
  return [
    HEADER,
    ...outcomes.map((o) => [
      o.id,
      outcomeCell(o, 'dockyard'),
      outcomeCell(o, 'distribution'),
      ratioCell(o),
      perTargetCell(o, 'dockyard', cpu),
      perTargetCell(o, 'distribution', cpu),
      perTargetCell(o, 'dockyard', rss),
      perTargetCell(o, 'distribution', rss),
    ]),
  ];
}

/** One scenario's result in a line, for progress output. */
export function scenarioLine(outcome: ScenarioOutcome): string {
  const cells = TARGETS.map((t) => `${t} ${outcomeCell(outcome, t)}`);
  return `${outcome.id}: ${cells.join(' | ')} | ratio ${ratioCell(outcome)}`;
}

/** The table as aligned plain text for the terminal. */
export function textTable(outcomes: ScenarioOutcome[]): string {
  const rows = tableRows(outcomes);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(line)].join('\n');
}

/** The run's notes followed by every per-scenario note, skip and failure. */
export function reportNotes(info: RunInfo, outcomes: ScenarioOutcome[]): string[] {
  const notes: string[] = [...info.notes];
  for (const o of outcomes) {
    for (const target of TARGETS) {
      const result = o.targets[target];
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
  const rows = tableRows(outcomes);
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const rss = Object.entries(info.serverPeakRssMiB).map(([name, value]) => `${name} ${significant(value ?? NaN)} MiB`);
  return [
    `# Dockyard vs CNCF distribution — ${info.profile} run, auth ${info.auth}`,
    '',
    `- command: \`${info.command}\``,
    `- started: ${info.startedAt}; scenarios took ${Math.round(info.scenarioSeconds)} s including setup and seeding`,
    `- machine: ${info.machine.nproc} CPUs (${info.machine.cpuModel}), kernel ${info.machine.kernel}, node ${info.machine.node}, distribution ${info.machine.distribution}`,
    `- 1-minute load average: ${info.loadAverage.start.toFixed(1)} at the start, ${info.loadAverage.end.toFixed(1)} at the end`,
    `- peak RSS per server over the whole run (VmHWM of its process tree): ${rss.join(', ') || 'n/a'}`,
    '',
    `| ${rows[0].map(escape).join(' | ')} |`,
    `|${rows[0].map(() => '---').join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.map(escape).join(' | ')} |`),
    '',
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
    targets: Object.fromEntries(
      TARGETS.map((t) => {
        const r = o.targets[t];
        return [t, { status: r.status, reason: r.reason, notes: r.notes, rounds: r.rounds.length, summary: r.status === 'ok' ? summarize(o.unit, r.rounds) : undefined }];
      }),
    ),
  }));
  writeFileSync(json, `${JSON.stringify({ info, scenarios: detailed }, null, 2)}\n`);
  return { markdown, json };
}
