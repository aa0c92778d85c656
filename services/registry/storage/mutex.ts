/**
 * Per-key mutual exclusion inside one process: two requests on the same upload session
 * run one after the other, so offsets and the running hash never interleave. (Across the
 * workers of a cluster, shared/process/cluster-mutex.ts does the same, and across replicas
 * sharing PostgreSQL, shared/db/advisory-mutex.ts.)
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after every earlier task of the same key has settled. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** True while a task of this key runs or waits. */
  isBusy(key: string): boolean {
    return this.tails.has(key);
  }
}
