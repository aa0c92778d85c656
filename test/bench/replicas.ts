/**
 * The replica rows' deployments: N Dockyard registries sharing one PostgreSQL schema and
 * one S3 bucket (their own data dirs, no IPC between them, as on separate hosts) behind the
 * round-robin proxy of the end-to-end tests, run as a process of its own. A set is one
 * target: its CPU is every replica's, its memory all replicas' together, and each round
 * also records the proxy's CPU and how busy the whole machine was (on a 2-core machine the
 * load generator, proxy, PostgreSQL and the RGW share the cores with the replicas).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestCount, type LoopResult } from './load.js';
import { RssSampler, treeCpuMs } from './proc.js';
import { launch, REPO_ROOT, startDockyardRegistry, type DockyardServer, type Server } from './servers.js';
import type { Measured, Target, TargetName } from './scenarios/types.js';

/** The replica counts the rows compare, by target. */
export const REPLICA_SETS: ReadonlyArray<{ name: TargetName; replicas: number }> = [
  { name: 'dockyard-1-replica', replicas: 1 },
  { name: 'dockyard-2-replicas', replicas: 2 },
];

export interface ReplicaSet {
  name: TargetName;
  /** The proxy's URL: what clients use. */
  url: string;
  registries: DockyardServer[];
  proxy: Server;
}

async function startProxy(name: string, upstreams: string[], logFile: string): Promise<Server> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, NODE_ENV: 'production' };
  const server = launch(`${name}-proxy`, process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/bench/replica-proxy.ts'), ...upstreams], env, logFile, '');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const line = /^listening (\S+)$/m.exec(readFileSync(logFile, 'utf8'));
    if (line) return { ...server, url: line[1] as string };
    if (server.child.exitCode !== null) throw new Error(`${name} proxy exited (${server.child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-500)}`);
    await sleep(100);
  }
  throw new Error(`${name} proxy did not start within 60 s (log ${logFile})`);
}

/**
 * Starts `replicas` registries on one store (`env`: storage and database, from
 * BenchStorage.dockyardEnv) one after the other, so the second finds the schema migrated,
 * then the proxy in front of them.
 */
export async function startReplicaSet(name: TargetName, replicas: number, dir: string, env: Record<string, string>, workers: number | undefined): Promise<ReplicaSet> {
  const registries: DockyardServer[] = [];
  for (let i = 0; i < replicas; i++) {
    registries.push(await startDockyardRegistry(join(dir, `${name}-${i}-data`), { name: `${name}-${i}`, workers, env }));
  }
  const proxy = await startProxy(name, registries.map((r) => r.url), join(dir, `${name}-proxy.log`));
  return { name, url: proxy.url, registries, proxy };
}

/** Busy and total CPU ticks of the whole machine (/proc/stat's first line; idle and iowait count as not busy). */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** A replica set as one target of the scenarios. */
export function replicaTarget(set: ReplicaSet): Target {
  const registryCpuMs = () => set.registries.reduce((sum, r) => sum + treeCpuMs(r.pid), 0);
  return {
    name: set.name,
    url: set.url,
    metadataDatabase: set.registries[0]?.database,
    async authorize() {
      return undefined;
    },
    async measure(work: () => Promise<LoopResult>): Promise<Measured> {
      const cpuBefore = registryCpuMs();
      const proxyBefore = treeCpuMs(set.proxy.pid);
      const machineBefore = machineTicks();
      const requestsBefore = requestCount();
      const clientBefore = process.cpuUsage();
      const samplers = set.registries.map((r) => new RssSampler(r.pid));
      let result: LoopResult;
      let peakRssBytes = 0;
      try {
        result = await work();
      } finally {
        // Each replica's own peak, summed: what the set needs at most.
        for (const sampler of samplers) peakRssBytes += sampler.stop();
      }
      const client = process.cpuUsage(clientBefore);
      const machine = machineTicks();
      return {
        ...result,
        requests: requestCount() - requestsBefore,
        cpuMs: registryCpuMs() - cpuBefore,
        clientCpuMs: (client.user + client.system) / 1000,
        peakRssBytes,
        replicaSet: {
          proxyCpuMs: treeCpuMs(set.proxy.pid) - proxyBefore,
          machineBusyShare: (machine.busy - machineBefore.busy) / Math.max(1, machine.total - machineBefore.total),
        },
      };
    },
  };
}
