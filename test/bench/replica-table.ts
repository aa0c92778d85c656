/** The report table of the replica rows (test/bench/replicas.ts): 1 vs 2 replicas, and where else the CPU went. */
import { significant, summarize, type ScenarioOutcome, type TableSpec } from './tables.js';
import type { TargetName } from './scenarios/types.js';

/** Proxy and load-generator CPU per request and the machine's busy share, for one set. */
function sideCell(outcome: ScenarioOutcome, name: TargetName): string {
  const result = outcome.targets[name];
  if (!result || result.status !== 'ok' || result.rounds.length === 0) return '-';
  const s = summarize(outcome.unit, result.rounds);
  const proxyMs = result.rounds.reduce((sum, r) => sum + (r.replicaSet?.proxyCpuMs ?? 0), 0);
  const busy = result.rounds.reduce((sum, r) => sum + (r.replicaSet?.machineBusyShare ?? 0) * r.seconds, 0) / s.seconds;
  return `proxy ${significant(proxyMs / s.requests)} ms, client ${significant(s.clientCpuMsPerRequest)} ms, machine ${Math.round(busy * 100)}% busy`;
}

export const REPLICA_TABLE: TableSpec = {
  title: 'Replicas: 1 vs 2 Dockyard registry replicas behind a round-robin proxy (PostgreSQL + S3)',
  columns: ['dockyard-1-replica', 'dockyard-2-replicas'],
  headings: ['1 replica', '2 replicas'],
  ratio: { of: 'second/first', heading: 'ratio 2/1 (throughput)' },
  extra: {
    heading: 'per request: proxy CPU, load generator CPU; machine CPU busy (1 replica; 2 replicas)',
    cell: (outcome) => `${sideCell(outcome, 'dockyard-1-replica')}; ${sideCell(outcome, 'dockyard-2-replicas')}`,
  },
  cpuRatioHeading: 'registry CPU/req ratio 2/1',
  legend:
    'Each set is Dockyard registries (no auth, one process each) sharing one PostgreSQL schema and one bucket on the Ceph RGW, behind the round-robin proxy of the end-to-end tests run as a process of its own; the load generator is the bench process. Registry CPU/req and peak RSS are all replicas of a set together. Everything (load generator, proxy, replicas, PostgreSQL, the RGW) runs on the same machine. Rounds alternate between the sets.',
};
