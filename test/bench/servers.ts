/**
 * Starts the servers under test as child processes on loopback ports and guarantees they
 * die with the bench: each child leads its own process group, which is signalled on normal
 * exit, on errors and on Ctrl-C. Logs go to files in the run's temp dir, not to pipes, so
 * a slow reader never throttles a server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../e2e/harness/ports.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registryConfigFromEnv } from '../../shared/config/index.js';
import type { DatabaseConfig } from '../../shared/db/index.js';
import { distEntry } from './dist.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A running server the bench started. */
export interface Server {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
}

/** Token-auth settings shared by both registries so one token is valid on each. */
export interface TokenTrust {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

const running = new Set<ChildProcess>();

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops every started server: SIGTERM, then SIGKILL for any still alive after a grace period. */
export async function stopAll(graceMs = 5000): Promise<void> {
  const children = [...running];
  for (const child of children) signalGroup(child, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(50);
  for (const child of children) signalGroup(child, 'SIGKILL');
  running.clear();
}

/** Last-resort synchronous kill for process 'exit' handlers. */
export function killAllNow(): void {
  for (const child of running) signalGroup(child, 'SIGKILL');
  running.clear();
}

export function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, url: string): Server {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  running.add(child);
  child.on('exit', () => running.delete(child));
  return { name, url, pid: child.pid, logFile, child };
}

function logTail(server: Server): string {
  try {
    return readFileSync(server.logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `path` until it answers one of `statuses`; fails early if the process exits. */
export async function waitReady(server: Server, path: string, statuses: number[], timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited (${server.child.exitCode ?? server.child.signalCode}) before it was ready; log ${server.logFile}:\n${logTail(server)}`);
    }
    try {
      const res = await fetch(new URL(path, server.url), { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (statuses.includes(res.status)) return;
      lastError = `status ${res.status}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${server.name} not ready at ${path} after ${timeoutMs} ms (${lastError}); log ${server.logFile}:\n${logTail(server)}`);
}

/** Node arguments for one of Dockyard's entry points: its compiled file in dist/ (run.ts checks dist/ is current first), as `npm start` runs. */
export function serviceArgs(entry: string): string[] {
  return [distEntry(entry)];
}

function productionEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, NODE_ENV: 'production', LOG_LEVEL: 'info' };
  return { ...env, ...extra };
}

/** Whether Dockyard's registry entry point exists yet. */
export function dockyardRegistryPresent(): boolean {
  return existsSync(join(REPO_ROOT, 'services/registry/main.ts'));
}

/** Whether Dockyard's auth service entry point exists yet. */
export function dockyardAuthPresent(): boolean {
  return existsSync(join(REPO_ROOT, 'services/auth/main.ts'));
}

/** Dockyard's registry, with the metadata database its configuration resolves to. */
export interface DockyardServer extends Server {
  database: DatabaseConfig;
}

/** How to start one of Dockyard's services. */
export interface DockyardLaunch {
  /** Server name, also its log file's name (several Dockyard registries may run at once). */
  name?: string;
  /** Token auth trusting our auth service; absent means REGISTRY_AUTH=none. */
  auth?: TokenTrust;
  /** DOCKYARD_WORKERS for the service (its cluster size); absent leaves the service's default. */
  workers?: number;
  /** More environment: storage and database settings (--storage, test/bench/storage.ts) or one comparison's settings (REGISTRY_NOTIFICATIONS_ENDPOINTS, GC). */
  env?: Record<string, string>;
}

function workersEnv(workers: number | undefined): Record<string, string> {
  return workers === undefined ? {} : { DOCKYARD_WORKERS: String(workers) };
}

/** Starts Dockyard's registry with SQLite + filesystem blobs under `dataDir`. */
export async function startDockyardRegistry(dataDir: string, launchOptions: DockyardLaunch = {}): Promise<DockyardServer> {
  const { name = 'dockyard', auth, workers, env: extraEnv = {} } = launchOptions;
  const port = await freePort();
  mkdirSync(dataDir, { recursive: true });
  const env = productionEnv({
    ...workersEnv(workers),
    ...extraEnv,
    REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
    DOCKYARD_DATA_DIR: dataDir,
    REGISTRY_AUTH: auth ? 'token' : 'none',
    ...(auth
      ? {
          REGISTRY_AUTH_TOKEN_REALM: auth.realm,
          REGISTRY_AUTH_TOKEN_SERVICE: auth.service,
          REGISTRY_AUTH_TOKEN_ISSUER: auth.issuer,
          REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: auth.rootCertBundle,
        }
      : {}),
    ...extraEnv,
  });
  const server = launch(name, process.execPath, serviceArgs('services/registry/main.ts'), env, join(dataDir, '..', `${name}.log`), `http://127.0.0.1:${port}`);
  await waitReady(server, '/v2/', auth ? [401] : [200]);
  return { ...server, database: registryConfigFromEnv(env).database };
}

/**
 * Starts CNCF distribution with filesystem storage under `dataDir`, delete enabled, like the
 * Debian default config. `logLevel` info is its default (two lines per request: app log and
 * access log); warn also disables the access log, so no per-request lines are written.
 */
export async function startDistribution(
  binary: string,
  dataDir: string,
  auth: TokenTrust | undefined,
  logLevel: 'info' | 'warn',
  driver = `  filesystem: { rootdirectory: ${JSON.stringify(dataDir)} }`,
): Promise<Server> {
  const port = await freePort();
  mkdirSync(dataDir, { recursive: true });
  const config = [
    'version: 0.1',
    `log: { level: ${logLevel}, fields: { service: registry }${logLevel === 'warn' ? ', accesslog: { disabled: true }' : ''} }`,
    'storage:',
    driver,
    '  delete: { enabled: true }',
    '  cache: { blobdescriptor: inmemory }',
    `http: { addr: "127.0.0.1:${port}", headers: { X-Content-Type-Options: [nosniff] } }`,
    ...(auth
      ? [
          'auth:',
          `  token: { realm: ${JSON.stringify(auth.realm)}, service: ${JSON.stringify(auth.service)}, issuer: ${JSON.stringify(auth.issuer)}, rootcertbundle: ${JSON.stringify(auth.rootCertBundle)} }`,
        ]
      : []),
  ].join('\n');
  const configFile = join(dataDir, '..', 'distribution.yml');
  writeFileSync(configFile, `${config}\n`);
  const server = launch('distribution', binary, ['serve', configFile], productionEnv({}), join(dataDir, '..', 'distribution.log'), `http://127.0.0.1:${port}`);
  await waitReady(server, '/v2/', auth ? [401] : [200]);
  return server;
}

/** Dockyard's auth service settings the bench uses. */
export interface AuthService extends Server {
  issuer: string;
  service: string;
  adminPassword: string;
  dataDir: string;
}

/** Starts Dockyard's auth service with a fresh data dir and a known admin password. */
export async function startAuthService(dataDir: string, adminPassword: string, workers?: number): Promise<AuthService> {
  const port = await freePort();
  mkdirSync(dataDir, { recursive: true });
  const issuer = 'dockyard-bench-auth';
  const service = 'dockyard-bench';
  const env = productionEnv({
    ...workersEnv(workers),
    AUTH_HTTP_ADDR: `127.0.0.1:${port}`,
    AUTH_TOKEN_ISSUER: issuer,
    AUTH_TOKEN_SERVICE: service,
    AUTH_TOKEN_TTL_SECONDS: '3600',
    DOCKYARD_DATA_DIR: dataDir,
    DOCKYARD_ADMIN_PASSWORD: adminPassword,
  });
  const server = launch('auth', process.execPath, serviceArgs('services/auth/main.ts'), env, join(dataDir, '..', 'auth.log'), `http://127.0.0.1:${port}`);
  await waitReady(server, '/certs.pem', [200]);
  return { ...server, issuer, service, adminPassword, dataDir };
}

/** Runs Dockyard's admin CLI against the auth service's data dir; returns its stdout. */
export async function runAuthCli(auth: AuthService, args: string[]): Promise<string> {
  const child = spawn(process.execPath, serviceArgs('services/auth/cli.ts').concat(args), {
    cwd: REPO_ROOT,
    env: productionEnv({ DOCKYARD_DATA_DIR: auth.dataDir, LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  running.delete(child);
  if (code !== 0) throw new Error(`auth cli ${args.join(' ')} failed (${code}): ${stderr.trim().slice(0, 500)}`);
  return stdout;
}

/** `npm start` as the web UI rows run it: registry, auth service and web UI in one process. */
export interface DockyardStack extends DockyardServer {
  registryUrl: string;
  authUrl: string;
  adminPassword: string;
}

/**
 * Starts dist/services/main.js (what `npm start` runs) with its data under `dataDir`: the
 * registry checks this auth service's tokens, the web UI calls both over HTTP. One process,
 * so the CPU of a page is the tree of `pid`, wherever the work happened.
 */
export async function startDockyardStack(dataDir: string, name: string, adminPassword: string, extraEnv: Record<string, string> = {}): Promise<DockyardStack> {
  const [registryPort, authPort, webPort] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(dataDir, { recursive: true });
  const env = productionEnv({
    ...extraEnv,
    DOCKYARD_DATA_DIR: dataDir,
    DOCKYARD_ADMIN_PASSWORD: adminPassword,
    REGISTRY_HTTP_ADDR: `127.0.0.1:${registryPort}`,
    AUTH_HTTP_ADDR: `127.0.0.1:${authPort}`,
    WEB_HTTP_ADDR: `127.0.0.1:${webPort}`,
    REGISTRY_GC_INTERVAL_SECONDS: '0',
  });
  const server = launch(name, process.execPath, serviceArgs('services/main.ts'), env, join(dataDir, '..', `${name}.log`), `http://127.0.0.1:${webPort}`);
  await waitReady(server, '/healthz', [200]);
  return { ...server, database: registryConfigFromEnv(env).database, registryUrl: `http://127.0.0.1:${registryPort}`, authUrl: `http://127.0.0.1:${authPort}`, adminPassword };
}
