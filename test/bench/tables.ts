/**
 * The report's tables: one per kind of comparison (Dockyard vs distribution, Dockyard with
 * token auth vs without, a small vs a large Dockyard registry), each with two target
 * columns, a throughput ratio and per-target CPU per request and peak memory.
 */
import { mib } from './content.js';
import { quantile } from './load.js';
import { REPLICA_TABLE } from './replica-table.js';
import type { Comparison, Measured, TargetName, Unit } from './scenarios/types.js';

/** What happened to one scenario on one target. */
export interface TargetOutcome {
  status: 'ok' | 'skipped' | 'failed' | 'not run';
  /** Why it was skipped or failed. */
  reason?: string;
  notes: string[];
  rounds: Measured[];
}

/** One scenario's outcome on each target it compares. */
export interface ScenarioOutcome {
  id: string;
  description: string;
  unit: Unit;
  latency: boolean;
  on: Comparison;
  targets: Partial<Record<TargetName, TargetOutcome>>;
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
  /** CPU time of the bench process (the load generator) per HTTP request it sent. */
  clientCpuMsPerRequest: number;
  clientCpuShare: number;
  peakRssMiB: number;
}

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
    clientCpuMsPerRequest: requests > 0 ? sum((m) => m.clientCpuMs) / requests : NaN,
    clientCpuShare: seconds > 0 ? sum((m) => m.clientCpuMs) / (seconds * 1000) : NaN,
    peakRssMiB: mib(Math.max(0, ...rounds.map((m) => m.peakRssBytes))),
  };
}

/** How one table compares its two targets. */
export interface TableSpec {
  /** Heading above the table (the main table has none, so existing reports keep their shape). */
  title?: string;
  columns: readonly [TargetName, TargetName];
  headings: readonly [string, string];
  /** The throughput ratio: first/second or second/first, and its heading. */
  ratio: { of: 'first/second' | 'second/first'; heading: string; metric?: 'rate' | 'p99' };
  /** One more column after the ratio, computed from the whole outcome. */
  extra?: { heading: string; cell(outcome: ScenarioOutcome): string };
  /** Also a CPU-per-request ratio in the same direction, under this heading. */
  cpuRatioHeading?: string;
  /** What the table's figures mean, printed under it. */
  legend?: string;
}

const VERSUS: TableSpec = {
  columns: ['dockyard', 'distribution'],
  headings: ['Dockyard', 'distribution'],
  ratio: { of: 'first/second', heading: 'ratio D/d (throughput, >1 = Dockyard faster)' },
};

/** The tables in report order; scenarios land in the table of their comparison. */
export const TABLES: ReadonlyArray<{ spec: TableSpec; holds: readonly Comparison[] }> = [
  { spec: VERSUS, holds: ['registries', 'auth'] },
  {
    spec: {
      title: 'Token auth overhead: Dockyard with token auth vs Dockyard without auth (same run)',
      columns: ['dockyard', 'dockyard-noauth'],
      headings: ['Dockyard, token auth', 'Dockyard, no auth'],
      ratio: { of: 'first/second', heading: 'ratio token/none (throughput; target >= 0.9)' },
      cpuRatioHeading: 'CPU/req ratio token/none',
      legend: 'Both registries are Dockyard with the same data layout; one verifies a JWT on every request. Rounds alternate between them.',
    },
    holds: ['auth-overhead'],
  },
  {
    spec: {
      title: 'Scaling: Dockyard with a small vs a large population (Dockyard only)',
      columns: ['dockyard-small', 'dockyard-large'],
      headings: ['small registry', 'large registry'],
      ratio: { of: 'second/first', heading: 'ratio large/small (throughput; 1 = same)' },
      cpuRatioHeading: 'CPU/req ratio large/small (1 = same cost)',
      legend: 'Two Dockyard registries, seeded through the MetadataStore, measured in alternating rounds; the row id names both sizes.',
    },
    holds: ['dockyard-scaling'],
  },
  {
    spec: {
      title: 'Notifications: Dockyard with a dead and a slow webhook endpoint vs Dockyard without endpoints (same run)',
      columns: ['dockyard-webhooks', 'dockyard-noauth'],
      headings: ['dead + slow endpoints', 'no endpoints'],
      ratio: { of: 'first/second', heading: 'ratio with/without (throughput; target >= 0.9)' },
      cpuRatioHeading: 'CPU/req ratio with/without',
      legend:
        'Both registries are Dockyard without auth. One has two endpoints: one refusing connections, one answering every request after 2 s (timeout 5 s); every push writes its events to the outbox and the dispatcher keeps retrying in the background. Rounds alternate between them.',
    },
    holds: ['webhooks'],
  },
  {
    spec: {
      title: 'Garbage collection: pushes during a GC run vs without one (Dockyard only, one registry)',
      columns: ['dockyard-gc-idle', 'dockyard-gc-busy'],
      headings: ['pushes, no GC', 'pushes during GC'],
      ratio: { of: 'second/first', heading: 'push p99 ratio during/without (target <= 1.5)', metric: 'p99' },
      extra: { heading: 'GC run (time, blobs deleted)', cell: gcCell },
      legend:
        'One Dockyard registry (SQLite, filesystem). Each "during" round stores the unreferenced blobs straight into its blob directory (untimed, modification time two days back), then runs `gc run` as the admin CLI does (a separate process) while the same push load runs until it ends; "no GC" rounds run the push load alone. Rounds alternate.',
    },
    holds: ['gc'],
  },
  {
    spec: {
      title: 'Web UI pages: the whole deployment with a small vs a large population (Dockyard only)',
      columns: ['web-small', 'web-large'],
      headings: ['small registry', 'large registry'],
      ratio: { of: 'second/first', heading: 'ratio large/small (throughput; 1 = same)' },
      cpuRatioHeading: 'server CPU per page large/small (1 = same cost)',
      legend:
        'Two `npm start` processes (registry with token auth, auth service, web UI; SQLite, filesystem), seeded through the MetadataStore, each page fetched by one signed-in user granted pull on bench/**; CPU is the whole process per page, latency is seen by the client. Rounds alternate.',
    },
    holds: ['web-scaling'],
  },
  { spec: REPLICA_TABLE, holds: ['replicas'] },
];

/** The GC runs of an outcome's rounds: duration and blobs deleted of each. */
function gcCell(outcome: ScenarioOutcome): string {
  const runs = Object.values(outcome.targets).flatMap((t) => t?.rounds.flatMap((r) => (r.gc ? [r.gc] : [])) ?? []);
  return runs.map((gc) => `${significant(gc.seconds)} s, ${gc.blobs.toLocaleString('en-US')} blobs`).join('; ') || '-';
}

/** The spec of the table a comparison's rows land in. */
export function specFor(on: Comparison): TableSpec {
  return (TABLES.find((t) => t.holds.includes(on)) ?? TABLES[0]).spec;
}

/** A number with `digits` significant digits (thousands separated when larger). */
export function significant(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}

function okSummary(outcome: ScenarioOutcome, target: TargetName): Summary | undefined {
  const result = outcome.targets[target];
  return result?.status === 'ok' ? summarize(outcome.unit, result.rounds) : undefined;
}

function outcomeCell(outcome: ScenarioOutcome, target: TargetName): string {
  const result = outcome.targets[target];
  if (!result || result.status === 'not run') return 'n/a';
  if (result.status !== 'ok') return result.status.toUpperCase();
  const s = summarize(outcome.unit, result.rounds);
  const rate = `${significant(s.rate)} ${s.unit}`;
  return outcome.latency ? `${rate} (p50 ${significant(s.p50Ms)} ms, p99 ${significant(s.p99Ms)} ms)` : rate;
}

function ratioCell(spec: TableSpec, outcome: ScenarioOutcome, pick: (s: Summary) => number): string {
  const [a, b] = spec.columns.map((t) => okSummary(outcome, t));
  if (!a || !b) return 'n/a';
  const [top, bottom] = spec.ratio.of === 'first/second' ? [a, b] : [b, a];
  return `${significant(pick(top) / pick(bottom), 2)}x`;
}

function mainRatioCell(spec: TableSpec, outcome: ScenarioOutcome): string {
  return ratioCell(spec, outcome, (s) => (spec.ratio.metric === 'p99' ? s.p99Ms : s.rate));
}

function perTargetCell(outcome: ScenarioOutcome, target: TargetName, pick: (s: Summary) => string): string {
  const s = okSummary(outcome, target);
  return s ? pick(s) : '-';
}

/** A table's rows as cells, header first. */
export function tableRows(spec: TableSpec, outcomes: ScenarioOutcome[]): string[][] {
  const cpu = (s: Summary) => `${significant(s.serverCpuMsPerRequest)} ms`;
  const rss = (s: Summary) => `${significant(s.peakRssMiB)} MiB`;
  const [first, second] = spec.columns;
  const [h1, h2] = spec.headings;
  const header = [
    'scenario',
    h1,
    h2,
    spec.ratio.heading,
    ...(spec.extra ? [spec.extra.heading] : []),
    `${h1} CPU/req`,
    `${h2} CPU/req`,
    ...(spec.cpuRatioHeading ? [spec.cpuRatioHeading] : []),
    `${h1} peak RSS`,
    `${h2} peak RSS`,
  ];
  return [
    header,
    ...outcomes.map((o) => [
      o.id,
      outcomeCell(o, first),
      outcomeCell(o, second),
      mainRatioCell(spec, o),
      ...(spec.extra ? [spec.extra.cell(o)] : []),
      perTargetCell(o, first, cpu),
      perTargetCell(o, second, cpu),
      ...(spec.cpuRatioHeading ? [ratioCell(spec, o, (s) => s.serverCpuMsPerRequest)] : []),
      perTargetCell(o, first, rss),
      perTargetCell(o, second, rss),
    ]),
  ];
}

/** The tables that have rows, each with its outcomes. */
export function tablesOf(outcomes: ScenarioOutcome[]): Array<{ spec: TableSpec; outcomes: ScenarioOutcome[] }> {
  return TABLES.map(({ spec, holds }) => ({ spec, outcomes: outcomes.filter((o) => holds.includes(o.on)) })).filter((t) => t.outcomes.length > 0);
}

/** One scenario's result in a line, for progress output. */
export function scenarioLine(outcome: ScenarioOutcome): string {
  const spec = specFor(outcome.on);
  const cells = spec.columns.map((t) => `${t} ${outcomeCell(outcome, t)}`);
  const extra = spec.extra ? ` | ${spec.extra.cell(outcome)}` : '';
  return `${outcome.id}: ${cells.join(' | ')} | ratio ${mainRatioCell(spec, outcome)}${extra}`;
}

/** Every table as aligned plain text for the terminal. */
export function textTable(outcomes: ScenarioOutcome[]): string {
  return tablesOf(outcomes)
    .map(({ spec, outcomes: rowsOf }) => {
      const rows = tableRows(spec, rowsOf);
      const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
      const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ').trimEnd();
      const body = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(line)];
      return [...(spec.title ? [spec.title, ''] : []), ...body].join('\n');
    })
    .join('\n\n');
}

/** Every table as markdown, titled tables under a level-2 heading. */
export function markdownTables(outcomes: ScenarioOutcome[]): string[] {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return tablesOf(outcomes).flatMap(({ spec, outcomes: rowsOf }) => {
    const rows = tableRows(spec, rowsOf);
    return [
      ...(spec.title ? [`## ${spec.title}`, ''] : []),
      `| ${rows[0].map(escape).join(' | ')} |`,
      `|${rows[0].map(() => '---').join('|')}|`,
      ...rows.slice(1).map((r) => `| ${r.map(escape).join(' | ')} |`),
      '',
      ...(spec.legend ? [spec.legend, ''] : []),
    ];
  });
}
