/**
 * A bound on directory operations in flight: at most `max` run at once, at most
 * `maxWaiting` wait for a slot and none waits longer than `waitMs`. A slow or hung
 * directory thus ties up a fixed number of sockets and nothing else; what does not get a
 * slot fails fast (the caller answers 503) instead of piling up.
 */
export class BusyError extends Error {}

export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
    private readonly waitMs: number,
  ) {}

  /** Runs `fn` in a slot; BusyError when none frees up in time or too many wait already. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.max) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new BusyError('too many directory operations waiting'));
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new BusyError('no directory connection free in time'));
      }, this.waitMs);
      this.waiting.push(grant);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` stays as it is.
    if (next) next();
    else this.running -= 1;
  }
}
