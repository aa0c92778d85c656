/**
 * `npm run bench`: starts Dockyard's registry and CNCF distribution side by side (and
 * Dockyard's auth service with --auth token), runs the same scenarios against both, prints
 * one comparison table and writes it to a file. Every child process dies with the bench,
 * whether it ends normally, fails or is interrupted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DatabaseConfig } from '../../shared/db/index.js';
import { processTarget, runScenarios, TokenSource } from './harness.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { benchStorage, type BenchStorage } from './storage.js';
import { ensureDist } from './dist.js';
import { REPLICA_SETS, replicaTarget, startReplicaSet, type ReplicaSet } from './replicas.js';
import { treePeakRssBytes } from './proc.js';
import { profileFor } from './profile.js';
import { LoadGuard, loadGuardSummary } from './load-guard.js';
import { reportNotes, textTable, writeReports, type RunInfo } from './report.js';
import { specFor } from './tables.js';
import { benchEndpoints } from './webhook-endpoints.js';
import { allScenarios, selectScenarios } from './scenarios/index.js';
import type { Scenario, Target, TargetName, WebStackInfo } from './scenarios/types.js';
import {
  REPO_ROOT,
  dockyardAuthPresent,
  dockyardRegistryPresent,
  killAllNow,
  startAuthService,
  startDistribution,
  startDockyardRegistry,
  startDockyardStack,
  stopAll,
  type AuthService,
  type Server,
  type TokenTrust,
} from './servers.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

function distributionBinary(): string {
  const find = () => spawnSync('sh', ['-c', 'command -v docker-registry'], { encoding: 'utf8' }).stdout.trim();
  let binary = find();
  if (!binary) {
    log('docker-registry not found; installing it with apt-get');
    spawnSync('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=900', '--no-install-recommends', 'docker-registry'], { stdio: 'inherit' });
    binary = find();
  }
  if (!binary) throw new Error('CNCF distribution (docker-registry) is not installed and apt-get could not install it');
  return binary;
}

function machineInfo(binary: string | undefined): RunInfo['machine'] {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  let distribution = 'not run';
  if (binary) {
    try {
      distribution = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).pop() ?? 'unknown';
    } catch {
      distribution = 'unknown';
    }
  }
  return { nproc: availableParallelism(), cpuModel, node: process.version, distribution, kernel: release() };
}

let tempDir: string | undefined;
const interrupted = new AbortController();
let keepTemp = false;
/** The --storage in use, closed (schemas dropped) after the servers stop. */
let storage: BenchStorage = benchStorage('filesystem');

/** Deletes the temp dir; fs.rm deletes entries concurrently, which matters for distribution's many directories. */
async function removeTemp(): Promise<void> {
  const dir = tempDir;
  if (!dir || keepTemp) return;
  log(`removing ${dir}`);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDir = undefined;
}

/** Stops servers, removes the temp dir and exits; a second call (another Ctrl-C) exits at once, killing servers. */
async function shutdown(code: number): Promise<never> {
  if (interrupted.signal.aborted) process.exit(code);
  interrupted.abort();
  await stopAll();
  await removeTemp();
  process.exit(code);
}

function installExitHandlers(): void {
  process.on('exit', () => {
    killAllNow();
    if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
  });
  let firstSignalAt = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // One Ctrl-C arrives twice under `npm run` (from the terminal and relayed by tsx); only a later one forces exit.
      if (firstSignalAt !== 0 && Date.now() - firstSignalAt < 2000) return;
      firstSignalAt ||= Date.now();
      log(`\n${signal}: stopping servers`);
      void shutdown(130);
    });
  }
  process.on('uncaughtException', (err) => {
    log(`bench failed: ${err.stack ?? err.message}`);
    void shutdown(1);
  });
  process.on('unhandledRejection', (err) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void shutdown(1);
  });
}

async function startTokenServer(dir: string, workers: number | undefined): Promise<{ auth: AuthService; trust: TokenTrust }> {
  if (!dockyardAuthPresent()) throw new Error('--auth token needs services/auth/main.ts, which does not exist yet');
  const auth = await startAuthService(join(dir, 'auth-data'), randomBytes(18).toString('base64url'), workers);
  const certs = await fetch(new URL('/certs.pem', auth.url));
  if (!certs.ok) throw new Error(`GET /certs.pem from the auth service: ${certs.status}`);
  const rootCertBundle = join(dir, 'auth-certs.pem');
  writeFileSync(rootCertBundle, await certs.text());
  return { auth, trust: { realm: new URL('/token', auth.url).href, service: auth.service, issuer: auth.issuer, rootCertBundle } };
}

/** A started registry and, for Dockyard, its metadata database (for seeding); for a web UI target, its services. */
type Registry = Server & { database?: DatabaseConfig; web?: WebStackInfo };

/**
 * Starts the registries the selected scenarios compare: Dockyard and distribution (as
 * --targets says), and only when a selected scenario needs them a Dockyard registry without
 * auth (auth overhead, --auth token runs) and a small and a large Dockyard (scaling rows).
 */
async function startRegistries(
  options: BenchOptions,
  scenarios: Scenario[],
  dir: string,
  trust: TokenTrust | undefined,
  binary: string | undefined,
  storage: BenchStorage,
): Promise<Map<TargetName, Registry>> {
  const servers = new Map<TargetName, Registry>();
  const wanted = new Set(scenarios.flatMap((s) => (s.on === 'auth' ? [] : specFor(s.on).columns)));
  const workers = options.workers;
  if (options.targets.includes('dockyard')) {
    servers.set('dockyard', await startDockyardRegistry(join(dir, 'dockyard-data'), { auth: trust, workers, env: await storage.dockyardEnv('dockyard') }));
    for (const name of ['dockyard-noauth', 'dockyard-small', 'dockyard-large'] as const) {
      if (wanted.has(name)) servers.set(name, await startDockyardRegistry(join(dir, `${name}-data`), { name, workers, env: await storage.dockyardEnv(name) }));
    }
    if (wanted.has('dockyard-webhooks')) {
      const env = { REGISTRY_NOTIFICATIONS_ENDPOINTS: JSON.stringify(await benchEndpoints()) };
      servers.set('dockyard-webhooks', await startDockyardRegistry(join(dir, 'dockyard-webhooks-data'), { name: 'dockyard-webhooks', workers, env }));
    }
    for (const name of ['web-small', 'web-large'] as const) {
      if (!wanted.has(name)) continue;
      const stack = await startDockyardStack(join(dir, `${name}-data`), name, randomBytes(18).toString('base64url'), await storage.dockyardEnv(name));
      servers.set(name, { ...stack, web: { registryUrl: stack.registryUrl, authUrl: stack.authUrl, adminPassword: stack.adminPassword } });
    }
    if (wanted.has('dockyard-gc-idle') || wanted.has('dockyard-gc-busy')) {
      // Both GC columns are this one registry; its own background GC is off, the bench runs `gc run`.
      const gcRegistry = await startDockyardRegistry(join(dir, 'dockyard-gc-data'), { name: 'dockyard-gc', workers, env: { REGISTRY_GC_INTERVAL_SECONDS: '0' } });
      servers.set('dockyard-gc-idle', gcRegistry);
      servers.set('dockyard-gc-busy', gcRegistry);
    }
  }
  if (binary) {
    const dataDir = join(dir, 'distribution-data');
    servers.set('distribution', await startDistribution(binary, dataDir, trust, options.distributionLog, await storage.distributionDriver(dataDir)));
  }
  return servers;
}

/** The replica sets (1 and 2 registries behind a proxy) the selected scenarios compare; they share PostgreSQL and a bucket, so only on --storage s3. */
async function startReplicaSets(options: BenchOptions, scenarios: Scenario[], dir: string, storage: BenchStorage): Promise<ReplicaSet[]> {
  const wanted = new Set(scenarios.flatMap((s) => (s.on === 'auth' ? [] : specFor(s.on).columns)));
  const chosen = REPLICA_SETS.filter((set) => wanted.has(set.name));
  if (chosen.length === 0 || !options.targets.includes('dockyard')) return [];
  const sets: ReplicaSet[] = [];
  for (const { name, replicas } of chosen) sets.push(await startReplicaSet(name, replicas, dir, await storage.dockyardEnv(name), options.workers));
  return sets;
}

/** How the servers ran, for the report. */
function runNotes(options: BenchOptions, scenarios: Scenario[], logVolume: string, distState: string | undefined): string[] {
  const distributionLog = options.distributionLog === 'warn' ? 'warn with the access log disabled' : 'info (its default)';
  const notes = [
    'Dockyard runs from the compiled dist/ as `node dist/services/registry/main.js` (what `npm run registry` runs, without the npm wrapper process; no TypeScript loader), NODE_ENV=production, LOG_LEVEL=info, logs to a file.',
    ...(distState ? [distState] : []),
    `distribution runs as \`docker-registry serve\` with ${storage.name === 'filesystem' ? 'filesystem storage' : `its ${storage.name} driver (see below)`}, delete enabled and the in-memory blob descriptor cache (the Debian default config), log level ${distributionLog}, logs to a file.`,
    storage.name === 'filesystem' ? 'Both keep their data under one temp dir on the same disk; the load generator runs in this process on the same machine.' : 'The load generator runs in this process on the same machine.',
    `Server log output over the run (per-request lines cost CPU): ${logVolume}.`,
  ];
  if (scenarios.some((s) => s.on === 'auth-overhead')) {
    notes.push('Token auth overhead rows: a second Dockyard registry with REGISTRY_AUTH=none and its own data dir (same layout) runs next to the token-auth one; rounds alternate between them.');
  }
  if (scenarios.some((s) => s.on === 'webhooks')) {
    notes.push('Notification rows: a second Dockyard registry without auth and without endpoints, and one with a dead endpoint (connection refused) and a slow one (a server in the bench process answering after 2 s); rounds alternate between them.');
  }
  if (scenarios.some((s) => s.on === 'dockyard-scaling')) {
    notes.push('Dockyard-only scaling rows: two more Dockyard registries, one seeded with the small and one with the large population through the MetadataStore; rounds alternate between them.');
  }
  if (scenarios.some((s) => s.on === 'web-scaling')) {
    notes.push('Web UI page rows: two `npm start` processes (registry with token auth, auth service and web UI in one process each), one seeded with the small and one with the large population through the MetadataStore; rounds alternate between them.');
  }
  if (scenarios.some((s) => s.on === 'gc')) {
    notes.push('Garbage collection rows: a Dockyard registry of its own (SQLite, filesystem storage, background GC off); `gc run` runs as a separate process, as `npm run admin -- gc run` does.');
  }
  if (scenarios.some((s) => s.on === 'replicas')) {
    notes.push(
      `Replica rows: 1 and 2 Dockyard registries (DOCKYARD_WORKERS ${options.workers ?? 1} each, no auth) per set, each set on its own PostgreSQL schema and bucket, behind test/e2e/harness/round-robin-proxy.ts in a process of its own; rounds alternate between the sets.`,
    );
  }
  if (scenarios.some((s) => s.on === 'registries' && s.id.startsWith('scale-'))) {
    notes.push(
      options.seed === 'db'
        ? "Scaling rows: Dockyard's population is seeded through its MetadataStore (same store calls as the API, large transactions); distribution's through its API."
        : 'Scaling rows: both populations are seeded through the API.',
    );
  }
  return notes;
}

async function main(options: BenchOptions): Promise<void> {
  const profile = profileFor(options.quick);
  let authService: AuthService | undefined;
  const every = allScenarios({
    profile,
    seedThroughDatabase: options.seed === 'db',
    authService() {
      if (!authService) throw new Error('this scenario needs --auth token');
      return authService;
    },
  });
  if (options.list) {
    for (const s of every) log(`${s.id.padEnd(32)} [${s.modes.join(',')}] ${s.description}`);
    return;
  }
  const scenarios = selectScenarios(every, options.auth, options.only);
  if (scenarios.length === 0) throw new Error(`no scenario of auth mode ${options.auth} matches ${String(options.only)} (see --list)`);
  if (options.targets.includes('dockyard') && !dockyardRegistryPresent()) {
    throw new Error('services/registry/main.ts does not exist yet; run with --targets distribution until it does');
  }

  if (scenarios.some((s) => s.on === 'replicas') && options.storage !== 's3') {
    throw new Error('the replicas- rows need --storage s3: the replicas share one PostgreSQL schema and one bucket');
  }
  const distState = options.targets.includes('dockyard') || options.auth === 'token' ? ensureDist(log) : undefined;
  const binary = options.targets.includes('distribution') ? distributionBinary() : undefined;
  tempDir = mkdtempSync(join(tmpdir(), 'dockyard-bench-'));
  keepTemp = options.keep;
  log(`bench ${profile.name}, auth ${options.auth}, ${scenarios.length} scenarios; work dir ${tempDir}`);

  let tokens: TokenSource | undefined;
  let trust: TokenTrust | undefined;
  if (options.auth === 'token') {
    const started = await startTokenServer(tempDir, options.workers);
    authService = started.auth;
    trust = started.trust;
    tokens = new TokenSource(authService.url, authService.service, authService.adminPassword);
    log(`auth service up at ${authService.url}`);
  }
  storage = benchStorage(options.storage);
  log(`storage ${storage.name}`);
  const servers = await startRegistries(options, scenarios, tempDir, trust, binary, storage);
  for (const [name, server] of servers) log(`${name} up at ${server.url} (pid ${server.pid}, log ${server.logFile})`);
  const replicaSets = await startReplicaSets(options, scenarios, tempDir, storage);
  for (const set of replicaSets) log(`${set.name} up at ${set.url} (proxy pid ${set.proxy.pid}; registry pids ${set.registries.map((r) => r.pid).join(', ')})`);

  // Only the two compared registries trust the auth service; the extra Dockyard registries run without auth.
  const tokensFor = (name: TargetName) => (name === 'dockyard' || name === 'distribution' ? tokens : undefined);
  const deleteFor = (name: TargetName) => (storage.deleteBlob ? { deleteStoredBlob: (digest: string) => storage.deleteBlob!(name, digest) } : {});
  const registries = new Map<TargetName, Target>(
    [...servers].map(([name, server]) => [name, { ...processTarget(name, server.url, server.pid, tokensFor(name), server.database, server.web), ...deleteFor(name) }]),
  );
  for (const set of replicaSets) registries.set(set.name, replicaTarget(set));
  const authTarget = authService ? [processTarget('dockyard', authService.url, authService.pid)] : [];
  const targetsFor = (scenario: Scenario): Target[] =>
    scenario.on === 'auth' ? authTarget : specFor(scenario.on).columns.flatMap((name) => registries.get(name) ?? []);
  const guard = options.maxLoad === undefined ? undefined : new LoadGuard(options.maxLoad, options.loadWait, log, interrupted.signal);
  const startedAt = new Date().toISOString();
  const began = Date.now();
  const loadAtStart = loadavg()[0];
  const outcomes = await runScenarios(scenarios, {
    targetsFor,
    rounds: profile.rounds,
    progress: log,
    stop: interrupted.signal,
    beforeScenario: guard ? (scenario) => guard.settle(scenario.id) : undefined,
  });
  const scenarioSeconds = (Date.now() - began) / 1000;
  const loadAverage = { start: loadAtStart, end: loadavg()[0] };
  // An interrupt owns the shutdown from here; a partial table would be misleading.
  if (interrupted.signal.aborted) return;

  const serverPeakRssMiB: RunInfo['serverPeakRssMiB'] = {};
  for (const [name, server] of servers) serverPeakRssMiB[name] = treePeakRssBytes(server.pid) / (1024 * 1024);
  const replicaRss = replicaSets.flatMap((set) => set.registries.map((r) => `${r.name} ${(treePeakRssBytes(r.pid) / (1024 * 1024)).toFixed(0)} MiB`));
  if (authService) serverPeakRssMiB.auth = treePeakRssBytes(authService.pid) / (1024 * 1024);
  tokens?.close();
  await stopAll();
  await storage.close();
  const logVolume = [...servers, ...(authService ? [['auth', authService] as const] : [])]
    .map(([name, server]) => `${name} ${(statSync(server.logFile).size / (1024 * 1024)).toFixed(1)} MiB`)
    .join(', ');

  const info: RunInfo = {
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    startedAt,
    scenarioSeconds,
    profile: profile.name,
    auth: options.auth,
    machine: machineInfo(binary),
    loadAverage,
    loadGuard: guard?.record,
    workers: options.workers,
    serverPeakRssMiB,
    notes: [
      ...runNotes(options, scenarios, logVolume, distState),
      ...storage.notes,
      ...(replicaRss.length > 0 ? [`Replica registries' peak RSS over the run, per process: ${replicaRss.join(', ')}.`] : []),
    ],
  };
  const out = resolve(options.out ?? join(REPO_ROOT, '.tmp', 'bench', `bench-${profile.name}-${options.auth}-${startedAt.replace(/[:.]/g, '-')}.md`));
  const written = writeReports(out, info, outcomes);
  process.stdout.write(`\n${textTable(outcomes)}\n\n`);
  process.stdout.write(`${reportNotes(info, outcomes).map((n) => `- ${n}`).join('\n')}\n\n`);
  if (info.loadGuard) process.stdout.write(`load guard: ${loadGuardSummary(info.loadGuard)}\n\n`);
  log(`wrote ${written.markdown} and ${written.json}`);
  if (outcomes.some((o) => Object.values(o.targets).some((t) => t.status === 'failed'))) process.exitCode = 1;
}

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  log(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  log(USAGE);
  process.exit(0);
}
installExitHandlers();
main(options).then(
  async () => {
    if (interrupted.signal.aborted) return;
    await removeTemp();
    log('done');
  },
  async (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  },
);
