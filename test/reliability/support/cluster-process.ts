/**
 * A service started as a node:cluster (DOCKYARD_WORKERS > 1) for the cluster suite: the
 * primary's exit code and signal, its worker pids (node children in /proc), and each worker's
 * bytes read (rchar in /proc/<pid>/io: request bodies arrive through read(2), so a worker
 * that served a request body has read at least its bytes; an idle worker reads nothing).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../e2e/harness/services.js';
import type { Workspace } from '../../e2e/harness/workspace.js';

/** How the primary ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running cluster primary. */
export interface ClusterProcess {
  pid: number;
  logPath: string;
  /** Resolves when the primary has exited. */
  exited: Promise<Exit>;
  log(): string;
}

const START_TIMEOUT_MS = 60_000;

/**
 * Starts `node --import tsx <script>` with `env` and waits until its log contains `readyLine`
 * (the primary's "all workers serving"); a primary exiting first fails with its log.
 */
export async function startCluster(ws: Workspace, name: string, script: string, env: Record<string, string>, readyLine: string): Promise<ClusterProcess> {
  const logPath = ws.logFile(name);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const pid = child.pid!;
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  ws.defer(`kill ${name}`, () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!log().includes(readyLine)) {
    if (exit) throw new Error(`${name} exited during start (${JSON.stringify(exit)}):\n${log()}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start:\n${log()}`);
    await sleep(100);
  }
  return { pid, logPath, exited, log };
}

/** Parent pid of `pid` from /proc/<pid>/stat (the field after the parenthesised name), if it lives. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state; a zombie has exited already.
    return fields[0] === 'Z' ? undefined : Number(fields[1]);
  } catch {
    return undefined;
  }
}

function executableOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * Pids of the live cluster workers of `primary`, sorted: its children running node, like it
 * (tsx may also run an esbuild service as a child of any of them).
 */
export function workerPids(primary: number): number[] {
  const node = executableOf(primary);
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => parentOf(pid) === primary && executableOf(pid) === node)
    .sort((a, b) => a - b);
}

/** Waits until `primary` has exactly `count` workers satisfying `accept`; returns their pids. */
export async function waitForWorkers(primary: number, count: number, accept: (pids: number[]) => boolean = () => true, timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = workerPids(primary);
    if (pids.length === count && accept(pids)) return pids;
    if (Date.now() > deadline) throw new Error(`expected ${count} workers of ${primary}, found ${JSON.stringify(pids)}`);
    await sleep(50);
  }
}

/** Bytes the process has read through read(2) and friends, sockets included. */
export function bytesRead(pid: number): number {
  const match = /^rchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!match) throw new Error(`no rchar in /proc/${pid}/io`);
  return Number(match[1]);
}

/** True while /proc still lists `pid` as a process that has not exited. */
export function alive(pid: number): boolean {
  return parentOf(pid) !== undefined;
}

/** The url of the first `"msg":"listening"` log line carrying `marker` (e.g. `"service":"registry"`). */
export function listeningUrl(log: string, marker = ''): string {
  for (const line of log.split('\n')) {
    if (!line.includes('"msg":"listening"') || !line.includes(marker)) continue;
    const url = /"url":"([^"]+)"/.exec(line)?.[1];
    if (url) return url;
  }
  throw new Error(`no listening line${marker ? ` with ${marker}` : ''} in:\n${log}`);
}
