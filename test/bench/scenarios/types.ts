/**
 * What a scenario is and what it gets to work with. A scenario prepares each target once
 * (untimed), then runs measured rounds; the harness alternates targets between rounds and
 * owns the accounting (CPU, memory, request counts).
 */
import type { DatabaseConfig } from '../../../shared/db/index.js';
import type { Budget, LoopResult } from '../load.js';
import type { Profile } from '../profile.js';
import type { AuthService } from '../servers.js';

/**
 * Which server a target is, and so which column its figures land in: the two registries
 * compared in the main table, Dockyard's registry without auth next to the token-auth one
 * (auth overhead), and two Dockyard registries holding a small and a large population
 * (scaling). The auth service's figures land in the 'dockyard' column of its rows. The two
 * garbage-collection columns are one Dockyard registry: pushes without and during a GC run.
 */
export type TargetName =
  | 'dockyard'
  | 'distribution'
  | 'dockyard-noauth'
  | 'dockyard-small'
  | 'dockyard-large'
  | 'dockyard-webhooks'
  | 'dockyard-gc-idle'
  | 'dockyard-gc-busy'
  | 'web-small'
  | 'web-large'
  | 'dockyard-1-replica'
  | 'dockyard-2-replicas';

/**
 * Which pair of servers a scenario compares (each pair is one table of the report):
 * 'registries' Dockyard vs distribution; 'auth' Dockyard's auth service alone;
 * 'auth-overhead' Dockyard with token auth vs Dockyard without auth (one --auth token run);
 * 'dockyard-scaling' a Dockyard registry with a small population vs one with a large one;
 * 'webhooks' a Dockyard registry with a dead and a slow notification endpoint vs one without.
 * 'gc' one Dockyard registry, pushes without a garbage collection vs during one.
 * 'web-scaling' the whole `npm start` deployment (registry, auth service, web UI in one
 * process) with a small population vs one with a large one, measured through web pages.
 * 'replicas' one vs two Dockyard registry replicas behind a round-robin proxy (test/bench/replicas.ts).
 */
export type Comparison = 'registries' | 'auth' | 'auth-overhead' | 'dockyard-scaling' | 'webhooks' | 'gc' | 'web-scaling' | 'replicas';

/** A LoopResult plus the server-side cost of producing it. */
export interface Measured extends LoopResult {
  /** HTTP requests the bench sent while measuring. */
  requests: number;
  /** CPU time of the server's process tree while measuring. */
  cpuMs: number;
  /** CPU time of the bench process itself while measuring (to spot a saturated load generator). */
  clientCpuMs: number;
  /** Highest sampled resident memory of the server's process tree while measuring. */
  peakRssBytes: number;
  /** A garbage collection that ran during the round (the gc rows). */
  gc?: { seconds: number; blobs: number; bytes: number };
  /** The replica rows: CPU time of the round-robin proxy process, and the share of the machine's CPU time busy (all processes). */
  replicaSet?: { proxyCpuMs: number; machineBusyShare: number };
}

/** One server under test, as a scenario sees it. */
export interface Target {
  name: TargetName;
  url: string;
  /** `Bearer …` for these scopes when running with --auth token, else undefined. */
  authorize(scopes: string[]): Promise<string | undefined>;
  /** Runs `work` with the server's CPU, memory and the bench's request count accounted. */
  measure(work: () => Promise<LoopResult>): Promise<Measured>;
  /** Dockyard's metadata database, for seeding through its MetadataStore; absent for distribution. */
  metadataDatabase?: DatabaseConfig;
  /** For a web UI target (url is the web UI's): where its registry and auth service answer, and the admin's password. */
  web?: WebStackInfo;
  /** Deletes a blob's bytes from the target's store behind its back (stores a run could fill); absent where not needed. */
  deleteStoredBlob?(digest: string): Promise<void>;
}

/** The services behind a web UI target (the `npm start` process, test/bench/servers.ts). */
export interface WebStackInfo {
  registryUrl: string;
  authUrl: string;
  adminPassword: string;
}

/** Units a scenario reports its throughput in. */
export type Unit = 'MiB/s' | 'req/s' | 'images/s' | 'walks/s' | 'logins/s';

/** A named, bounded measurement that runs the same way against every target. */
export interface Scenario {
  id: string;
  description: string;
  unit: Unit;
  /** Whether p50/p99 latency of one op is meaningful (and shown). */
  latency: boolean;
  /** Which servers it runs against (see Comparison). */
  on: Comparison;
  /** Which auth modes the scenario runs in. */
  modes: ReadonlyArray<'none' | 'token'>;
  budget: Budget;
  /**
   * Run one unmeasured round on each target after setup: for servers started fresh for
   * this comparison, so a cold JIT on one side does not count against it.
   */
  warmUp?: boolean;
  /** Untimed setup, once per target; may return a note for the report. */
  prepare?(target: Target): Promise<string | void>;
  /** One measured round; verifies what it moved before returning. */
  round(target: Target, round: number): Promise<Measured>;
}

/** What scenario factories get besides the profile. */
export interface ScenarioEnv {
  profile: Profile;
  /** The running auth service; throws unless the run uses --auth token. */
  authService(): AuthService;
  /** Seed the scaling population of targets that expose a metadata database directly (else via the API). */
  seedThroughDatabase: boolean;
}

/** Thrown by prepare when a target cannot be measured fairly (e.g. seeding too slow); reported, not fatal. */
export class SkipTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkipTarget';
  }
}
