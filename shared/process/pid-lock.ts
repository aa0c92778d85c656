/**
 * A lock file that names its holder: `{"pid":N,"started":"T"}` (T is the process start time
 * from /proc, so a pid reused after a reboot or container restart is not mistaken for the
 * holder). Node has no flock, so exclusivity comes from link(2), which fails atomically when
 * the name exists, and a crashed holder (SIGKILL, power cut) never leaves the lock stuck:
 * a lock whose holder no longer runs is stale and is broken by the next taker. Used for the
 * data directory of each service (one process serves it) and the key directory's rotation.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, rename, stat, unlink, writeFile } from 'node:fs/promises';

/** The lock is held by a running process. */
export class LockHeldError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is held by process ${pid}`);
    this.name = 'LockHeldError';
  }
}

/** A lock this process holds. */
export interface PidLock {
  readonly path: string;
  /** Removes the lock file, unless another process has broken and retaken it meanwhile. */
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  /** Start time of the holder as /proc shows it; absent in locks written by older versions. */
  started?: string;
  ino: number;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); undefined off Linux. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the process that wrote the lock runs (same pid and, where known, same start time). */
function isRunning(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user; it still holds the lock.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTimeOf(holder.pid);
  return holder.started === undefined || started === undefined || started === holder.started;
}

function parseHolder(text: string, ino: number): Holder | null {
  // Older key locks hold the bare pid.
  if (/^\d+$/.test(text.trim())) return { pid: Number(text.trim()), ino };
  try {
    const value = JSON.parse(text) as { pid?: unknown; started?: unknown };
    if (Number.isSafeInteger(value.pid) && (value.pid as number) > 0) {
      return { pid: value.pid as number, started: typeof value.started === 'string' ? value.started : undefined, ino };
    }
  } catch {
    // unreadable: treated as stale below
  }
  return null;
}

/** The current holder; null when the file vanished; pid 0 when its content is not a lock (stale). */
async function readHolder(path: string): Promise<Holder | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { ino } = await handle.stat();
    return parseHolder(await handle.readFile('utf8'), ino) ?? { pid: 0, ino };
  } finally {
    await handle.close();
  }
}

/**
 * Moves a stale lock aside and deletes it. If, between our read and the rename, another
 * taker broke it and made a fresh one, the rename moved that fresh lock: it is put back.
 */
async function breakStale(path: string, ino: number): Promise<void> {
  const aside = `${path}.stale.${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((await stat(aside)).ino !== ino) await link(aside, path).catch(() => undefined);
  await unlink(aside);
}

/** The lock's content for this process. */
function holderText(): string {
  return `${JSON.stringify({ pid: process.pid, started: startTimeOf(process.pid) })}\n`;
}

/** Takes the lock at `path` once; throws LockHeldError when a running process holds it. */
export async function acquirePidLock(path: string): Promise<PidLock> {
  // Written in full under a private name first, so the lock is never seen empty.
  const draft = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(draft, holderText(), { mode: 0o600, flag: 'wx' });
  try {
    // A bounded number of rounds: each one either takes the lock, finds a live holder or breaks a stale one.
    for (let round = 0; round < 5; round++) {
      try {
        await link(draft, path);
        const { ino } = await stat(draft);
        return { path, release: () => releaseIfOurs(path, ino) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readHolder(path);
      if (holder === null) continue;
      if (holder.pid !== 0 && isRunning(holder)) throw new LockHeldError(path, holder.pid);
      await breakStale(path, holder.ino);
    }
    throw new Error(`cannot take the lock ${path}: it keeps changing hands`);
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

async function releaseIfOurs(path: string, ino: number): Promise<void> {
  const current = await stat(path).catch(() => null);
  if (current?.ino === ino) await unlink(path).catch(() => undefined);
}
