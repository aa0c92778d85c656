/**
 * Removes directory trees for the filesystem driver on removal threads (worker threads)
 * that make plain synchronous system calls. Why not fs/promises: on ext4 mounted with
 * `discard` (these machines) every freed block makes the call wait for the device (~0.1 ms,
 * two per blob directory), and each such call would hold one of libuv's four pool threads,
 * the ones every other file operation of the process queues on (the pushes the registry
 * serves), plus a round trip of thread wake-ups per entry. A removal thread removes one tree
 * entry by entry; trees given at once (the collector's trash batches) go to different
 * threads, which lets the device overlap its waits. Measured on 1,000 trash batches of 100
 * blob directories (`docs/performance.md`): 14.7 s and 8 CPU-seconds on 8 threads, against
 * 18 s and 12 CPU-seconds through fs/promises. Threads start when needed, end when idle, and
 * never keep the process alive while idle.
 */
import { Worker } from 'node:worker_threads';

/** Removal threads at most; trees beyond that queue on the least busy thread. */
export const REMOVAL_THREADS = 8;

/** An idle removal thread ends after this long. */
const IDLE_MS = 10_000;

/**
 * The removal thread's program. Source text rather than a module: a worker's entry file
 * would have to exist both as TypeScript (tests, under tsx, whose loader workers do not get)
 * and as JavaScript (dist), and this needs nothing but node:fs.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { readdirSync, rmdirSync, unlinkSync } = require('node:fs');
const { join } = require('node:path');
const absent = (err) => err.code === 'ENOENT';
function unlinkIfPresent(path) {
  try { unlinkSync(path); } catch (err) { if (!absent(err)) throw err; }
}
function removeTree(path) {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOTDIR') return unlinkIfPresent(path);
    if (absent(err)) return;
    throw err;
  }
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) removeTree(child);
    else unlinkIfPresent(child);
  }
  try { rmdirSync(path); } catch (err) { if (!absent(err)) throw err; }
}
parentPort.on('message', ({ id, path }) => {
  try {
    removeTree(path);
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, code: err.code, message: err.message });
  }
});
`;

interface Job {
  resolve(): void;
  reject(err: Error): void;
}

/** A failure a removal thread reported, with the system error code (ENOTEMPTY, EACCES, …) kept. */
class RemovalError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

class RemovalThread {
  // No inherited node flags (a loader, --input-type=module would make the source an ES
  // module without require); a removal needs little heap, so each thread's memory stays small.
  private readonly worker = new Worker(THREAD_SOURCE, {
    eval: true,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
  });
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ended: (thread: RemovalThread) => void) {
    this.worker.on('message', (reply: { id: number; code?: string; message?: string }) => {
      const job = this.jobs.get(reply.id);
      this.jobs.delete(reply.id);
      if (reply.message === undefined) job?.resolve();
      else job?.reject(new RemovalError(reply.message, reply.code));
      if (this.jobs.size === 0) this.becomeIdle();
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('a removal thread exited')));
  }

  get load(): number {
    return this.jobs.size;
  }

  remove(path: string): Promise<void> {
    clearTimeout(this.idleTimer);
    // Referenced only while it has work: a pending removal keeps the process alive, an idle thread does not.
    this.worker.ref();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      this.worker.postMessage({ id, path });
    });
  }

  private becomeIdle(): void {
    this.worker.unref();
    this.idleTimer = setTimeout(() => {
      this.ended(this);
      void this.worker.terminate();
    }, IDLE_MS).unref();
  }

  private fail(err: Error): void {
    clearTimeout(this.idleTimer);
    this.ended(this);
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
  }
}

/** The process's removal threads. */
class TreeRemover {
  private threads: RemovalThread[] = [];

  /** Removes the tree at the absolute path `full` (a file is unlinked); nothing happens if it is absent. */
  remove(full: string): Promise<void> {
    return this.thread().remove(full);
  }

  private thread(): RemovalThread {
    const leastBusy = this.threads.reduce<RemovalThread | undefined>((best, thread) => (best && best.load <= thread.load ? best : thread), undefined);
    if (leastBusy && (leastBusy.load === 0 || this.threads.length >= REMOVAL_THREADS)) return leastBusy;
    const thread = new RemovalThread((ended) => {
      this.threads = this.threads.filter((t) => t !== ended);
    });
    this.threads.push(thread);
    return thread;
  }
}

/** One set of removal threads per process, shared by every filesystem driver in it. */
export const treeRemover = new TreeRemover();
