/**
 * Reads server resource use from /proc: CPU time and memory of a process and every
 * descendant, so a server that forks helpers (or a wrapper that starts the real server)
 * is charged in full.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_SECOND = clockTicksPerSecond();

interface StatLine {
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime..cstime are fields 14..17.
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return { ppid: Number(fields[1]), ticks };
}

/** The pid itself and every live descendant. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU time (user + system, including reaped children) of a process tree, in milliseconds. */
export function treeCpuMs(rootPid: number): number {
  let ticks = 0;
  for (const pid of processTree(rootPid)) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1000) / TICKS_PER_SECOND;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the given processes together, in bytes (a process gone since is 0). */
function rssOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + statusKiB(pid, 'VmRSS') * 1024, 0);
}

/** Sum of each live process's own peak resident memory (VmHWM) in a tree, in bytes. */
export function treePeakRssBytes(rootPid: number): number {
  return processTree(rootPid).reduce((sum, pid) => sum + statusKiB(pid, 'VmHWM') * 1024, 0);
}

/** How often the sampler rescans /proc for the tree's members (a scan reads every process's stat; the bench pays it). */
const TREE_RESCAN_MS = 1000;

/**
 * Samples a tree's resident memory until stopped; returns the highest sample. Members are
 * found by a full /proc scan once a second (workers a server forks appear within that),
 * and only their status files are read at every sample.
 */
export class RssSampler {
  private peak = 0;
  private members: number[] = [];
  private scannedAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly rootPid: number, intervalMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    if (Date.now() - this.scannedAt >= TREE_RESCAN_MS) {
      this.members = processTree(this.rootPid);
      this.scannedAt = Date.now();
    }
    this.peak = Math.max(this.peak, rssOf(this.members));
  }

  /** Stops sampling and returns the peak in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.scannedAt = 0;
    this.sample();
    return this.peak;
  }
}
