/**
 * Mutual exclusion per key across the workers of one node:cluster (DOCKYARD_WORKERS > 1).
 * The primary keeps the table of held keys and grants each key to one request at a time,
 * in arrival order; a worker asks for and returns keys over the cluster IPC channel. A
 * worker that dies (even by SIGKILL) gives up everything it held or waited for, so no key
 * stays locked by a process that no longer exists. Outside a cluster there is nothing to
 * exclude across processes and tasks run at once (in-process ordering is the caller's).
 */
import cluster, { type Worker } from 'node:cluster';

/** Runs tasks one at a time per key. */
export interface KeyMutex {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  /**
   * Runs `task` only if the key is free right now, without waiting: for background work
   * (the upload purge) that must not touch what another process holds. Mutexes without it
   * are waited for with `run`.
   */
  tryRun?<T>(key: string, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
}

const TAG = 'dockyard:mutex';

interface MutexMessage {
  tag: typeof TAG;
  op: 'acquire' | 'release' | 'granted';
  key: string;
  /** Tells apart the requests of one worker. */
  id: number;
}

function isMutexMessage(value: unknown): value is MutexMessage {
  const message = value as Partial<MutexMessage> | null;
  return typeof message === 'object' && message !== null && message.tag === TAG && typeof message.key === 'string' && typeof message.id === 'number';
}

interface Claim {
  worker: Worker;
  id: number;
}

/** The primary's side: which worker request holds each key and who waits for it. */
export class ClusterLockTable {
  /** Per key, the holder first, then the waiters in arrival order. */
  private readonly claims = new Map<string, Claim[]>();

  /** Serves `worker`'s requests until it exits, then releases what it held. */
  attach(worker: Worker): void {
    worker.on('message', (message: unknown) => {
      if (!isMutexMessage(message)) return;
      if (message.op === 'acquire') this.acquire(message.key, { worker, id: message.id });
      else if (message.op === 'release') this.release(message.key, (c) => c.worker === worker && c.id === message.id);
    });
    worker.once('exit', () => {
      for (const key of [...this.claims.keys()]) this.release(key, (c) => c.worker === worker);
    });
  }

  private acquire(key: string, claim: Claim): void {
    const queue = this.claims.get(key);
    if (queue) {
      queue.push(claim);
      return;
    }
    this.claims.set(key, [claim]);
    grant(key, claim);
  }

  private release(key: string, matches: (claim: Claim) => boolean): void {
    const queue = this.claims.get(key);
    if (!queue) return;
    const holder = queue[0];
    const remaining = queue.filter((c) => !matches(c));
    if (remaining.length === 0) {
      this.claims.delete(key);
      return;
    }
    this.claims.set(key, remaining);
    if (remaining[0] !== holder) grant(key, remaining[0]);
  }
}

function grant(key: string, claim: Claim): void {
  // A worker that is gone cannot take the grant; its exit handler passes the key on.
  if (!claim.worker.isConnected()) return;
  const message: MutexMessage = { tag: TAG, op: 'granted', key, id: claim.id };
  claim.worker.send(message);
}

/** A worker's side: asks the primary for each key. */
class WorkerMutex implements KeyMutex {
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();

  constructor() {
    process.on('message', (message: unknown) => {
      if (!isMutexMessage(message) || message.op !== 'granted') return;
      const resume = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      resume?.();
    });
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      this.waiting.set(id, resolve);
      send({ tag: TAG, op: 'acquire', key, id });
    });
    try {
      return await task();
    } finally {
      send({ tag: TAG, op: 'release', key, id });
    }
  }
}

function send(message: MutexMessage): void {
  // Without the channel the primary is gone, and node:cluster ends this worker anyway.
  if (process.connected) process.send?.(message);
}

const inProcess: KeyMutex = { run: (_key, task) => task() };
let workerMutex: WorkerMutex | undefined;

/** The cluster-wide mutex in a worker; outside a cluster one that adds no ordering. */
export function clusterMutex(): KeyMutex {
  if (!cluster.isWorker) return inProcess;
  workerMutex ??= new WorkerMutex();
  return workerMutex;
}
