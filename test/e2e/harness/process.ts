/**
 * Starts a long-running service process (registry, auth service, dockerd) with its output in
 * a log file, waits until a readiness probe answers, and stops it by pid. Each process leads
 * its own process group so children it spawns (dockerd's containerd) go down with it; a
 * process-exit hook SIGKILLs any group still alive if a test run dies without its after().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Workspace } from './workspace.js';

/** How to start and recognise a ready service. */
export interface ProcessSpec {
  /** Short name for the log file and messages, e.g. `registry`. */
  name: string;
  command: string;
  args: readonly string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Resolves true once the service answers; called repeatedly until then. */
  ready: () => Promise<boolean>;
  /** How long to wait for readiness before giving up (default 60 s). */
  readyTimeoutMs?: number;
}

/** A started service process. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Whether the process is still running. */
  running(): boolean;
  /** SIGTERM the process group, wait for exit, SIGKILL if it lingers. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when a service exits or never becomes ready; carries its log. */
export class ProcessStartError extends Error {
  constructor(message: string, readonly log: string) {
    super(`${message}\n--- log ---\n${log}`);
    this.name = 'ProcessStartError';
  }
}

const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 15_000;
const live = new Set<number>();

process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '(no log)';
  }
}

/** Starts the process and resolves once `spec.ready()` is true; registers its stop in `ws`. */
export async function startProcess(ws: Workspace, spec: ProcessSpec): Promise<ManagedProcess> {
  const logPath = ws.logFile(spec.name);
  const logFd = openSync(logPath, 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;
  if (pid === undefined) throw new ProcessStartError(`cannot start ${spec.command}: ${(await spawnError).message}`, readLog(logPath));
  live.add(pid);
  child.once('exit', () => live.delete(pid));

  const handle: ManagedProcess = {
    name: spec.name,
    pid,
    logPath,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (!handle.running()) return;
      signalGroup(pid, 'SIGTERM');
      if (await waitForExit(child, STOP_GRACE_MS)) {
        signalGroup(pid, 'SIGKILL'); // children the leader left behind
        return;
      }
      signalGroup(pid, 'SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    },
  };
  ws.defer(`stop ${spec.name}`, () => handle.stop());

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (!handle.running()) {
      throw new ProcessStartError(`${spec.name} exited during start (code ${child.exitCode}, signal ${child.signalCode})`, readLog(logPath));
    }
    if (await spec.ready().catch(() => false)) return handle;
    await sleep(POLL_INTERVAL_MS);
  }
  await handle.stop();
  throw new ProcessStartError(`${spec.name} did not become ready`, readLog(logPath));
}

/** A readiness probe: true once `url` answers with a status `accept` likes (default: below 500). */
export function httpProbe(url: string, accept: (status: number) => boolean = (status) => status < 500): () => Promise<boolean> {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
    await response.body?.cancel();
    return accept(response.status);
  };
}

/** Like httpProbe over HTTPS, trusting only the CA in the PEM file `caPath`. */
export function httpsProbe(url: string, caPath: string): () => Promise<boolean> {
  const ca = readFileSync(caPath);
  return () =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca, timeout: 2000 }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 500);
      });
      req.on('timeout', () => req.destroy(new Error('probe timed out')));
      req.on('error', reject);
      req.end();
    });
}
