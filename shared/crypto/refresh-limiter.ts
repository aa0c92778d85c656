/**
 * At most one refresh of a key source per interval, shared by every caller: requests that
 * arrive while one runs wait for it, requests within the interval after it get no refresh.
 * This is what keeps tokens with made-up key ids from re-reading or re-fetching keys at the
 * sender's pace.
 */
export class RefreshLimiter {
  /** When the last refresh started (epoch ms); -Infinity before the first. */
  private startedAt = Number.NEGATIVE_INFINITY;
  private running: Promise<boolean> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `refresh` unless one runs or ran less than the interval ago; false when skipped. */
  run(refresh: () => Promise<boolean>): Promise<boolean> {
    if (this.running) return this.running;
    const now = this.now();
    // A clock that went backwards counts as due, not as recent.
    if (now >= this.startedAt && now - this.startedAt < this.intervalMs) return Promise.resolve(false);
    this.startedAt = now;
    this.running = refresh().finally(() => {
      this.running = null;
    });
    return this.running;
  }
}
