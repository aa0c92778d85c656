/**
 * `gc run` is batch work beside a registry that serves pushes and pulls on the same cores:
 * it lowers its CPU priority so that serving goes first and the collector uses what is left
 * (on 2 shared cores a collector at full priority doubled push latency, docs/performance.md).
 * Linux keeps a nice value per thread and a new thread inherits its creator's, so every
 * thread that exists already (the main thread, libuv's pool doing the file-system calls)
 * is lowered one by one. The SQLite write lock is held for a few milliseconds per page, so a
 * low-priority holder delays a waiting push by little more than that.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value a collector run takes (higher is lower priority; never raised back). */
export const COLLECTOR_NICE = 10;

/** Lowers every thread of this process to at least `nice`; best effort (other systems: the calling thread). */
export function lowerCpuPriority(nice: number = COLLECTOR_NICE): void {
  let threads: number[] = [0];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // Not Linux: setPriority(0) covers the process.
  }
  for (const thread of threads) {
    try {
      if (getPriority(thread) < nice) setPriority(thread, nice);
    } catch {
      // A thread that ended meanwhile, or a system that refuses: serving is no worse off.
    }
  }
}
