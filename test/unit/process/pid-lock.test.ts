// The holder-naming lock file (shared/process/pid-lock.ts) and the key directory's rotation
// lock built on it: a live holder keeps it, a holder killed with SIGKILL does not.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { acquirePidLock, LockHeldError } from '../../../shared/process/pid-lock.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const root = mkdtempSync(join(tmpdir(), 'dockyard-pid-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = (): string => {
  const dir = join(root, `case-${count++}`);
  spawnSync('mkdir', ['-p', dir]);
  return dir;
};

/** A child process holding the lock at `path`, once it said so. */
async function holder(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'hold-lock.ts'), path], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'held' ? resolve() : reject(new Error(line))));
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function sigkill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const done = spawnSync('true');
  return done.pid!;
}

describe('pid lock', () => {
  it('is refused while a running process holds it, naming that process, and taken once it was SIGKILLed', async () => {
    const path = join(fresh(), 'x.lock');
    const child = await holder(path);
    try {
      await assert.rejects(acquirePidLock(path), (err: unknown) => err instanceof LockHeldError && err.pid === child.pid);
    } finally {
      await sigkill(child);
    }
    const lock = await acquirePidLock(path);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    await lock.release();
    await (await acquirePidLock(path)).release();
  });

  it('treats a lock whose pid now belongs to a process started later (pid reuse) as stale', async () => {
    const path = join(fresh(), 'x.lock');
    // Our own pid, with a start time that is not ours: what a container restart leaves.
    writeFileSync(path, JSON.stringify({ pid: process.pid, started: '1' }));
    const lock = await acquirePidLock(path);
    await lock.release();
  });

  it('treats a lock of an exited process, in the old bare-pid format too, as stale', async () => {
    const path = join(fresh(), 'x.lock');
    writeFileSync(path, String(deadPid()));
    await (await acquirePidLock(path)).release();
  });

  it('lets exactly one of many concurrent takers have it', async () => {
    const path = join(fresh(), 'x.lock');
    writeFileSync(path, String(deadPid()));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquirePidLock(path)));
    const taken = results.filter((r) => r.status === 'fulfilled');
    assert.equal(taken.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LockHeldError, String(r.reason));
  });
});

describe('key rotation lock', () => {
  it('a rotation killed with SIGKILL while holding keys.lock does not block the next rotation', async () => {
    const dir = join(fresh(), 'keys');
    const store = await KeyStore.open(dir, { publishAheadSeconds: 0 });
    const before = store.current().kid;
    const child = await holder(join(dir, 'keys.lock'));
    await sigkill(child);
    // Before the fix this waited 15 s for a lock younger than 30 s, then failed.
    const rotated = await store.rotate();
    assert.notEqual(rotated.kid, before);
  });
});
