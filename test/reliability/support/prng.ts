/**
 * A seeded pseudo-random generator for the reliability suites: every random choice (kill
 * moments, blob sizes, operation mix) comes from one seed that the test prints, so a
 * failing run can be replayed with RELIABILITY_SEED=<seed>.
 */
import { randomInt } from 'node:crypto';

/** mulberry32: tiny, fast and good enough to pick sizes and moments. */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An independent generator derived from this one (one per concurrent worker). */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 4294967296));
  }
}

/** The seed from RELIABILITY_SEED, or a fresh random one. */
export function seedFromEnv(): number {
  const raw = process.env.RELIABILITY_SEED;
  if (raw === undefined || raw === '') return randomInt(0, 2 ** 32 - 1);
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2 ** 32 - 1) throw new Error(`RELIABILITY_SEED must be an integer in [0, 2^32), got ${raw}`);
  return Number(raw);
}
