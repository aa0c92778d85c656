/**
 * The times of the signing-key lifecycle shared by both key stores (the key directory,
 * keys.ts, and the auth database, services/auth/keys/): how long a retired key stays
 * published, and how long the next key is published before a rotation may make it sign.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Longest token lifetime we expect (1 h) plus verifier clock leeway (60 s). */
export const DEFAULT_RETAIN_SECONDS = 3600 + 60;

/**
 * How long the next key is published before a rotation may make it sign: longer than the
 * 10 s within which a Dockyard registry refetches the JWKS for an unknown kid, so every
 * registry that could still hold a copy without it is allowed to fetch again by then.
 */
export const DEFAULT_PUBLISH_AHEAD_SECONDS = 15;

/** Options shared by the key stores: retention, publication ahead of use, and a clock for tests. */
export interface KeyStoreOptions {
  retainSeconds?: number;
  publishAheadSeconds?: number;
  now?: () => number;
}

/** Validated retention and publish-ahead times (ms). */
export function keyTimings(options: KeyStoreOptions): { retainMs: number; publishAheadMs: number } {
  const retainSeconds = options.retainSeconds ?? DEFAULT_RETAIN_SECONDS;
  const publishAheadSeconds = options.publishAheadSeconds ?? DEFAULT_PUBLISH_AHEAD_SECONDS;
  if (!Number.isFinite(retainSeconds) || retainSeconds < 0) throw new RangeError('retainSeconds must be >= 0');
  if (!Number.isFinite(publishAheadSeconds) || publishAheadSeconds < 0) throw new RangeError('publishAheadSeconds must be >= 0');
  return { retainMs: retainSeconds * 1000, publishAheadMs: publishAheadSeconds * 1000 };
}

/**
 * Waits until the next key has been published for the publish-ahead time. Returns the kid
 * waited for: a rotation may then switch to that key whatever a test's clock says.
 */
export async function awaitPublication(next: { kid: string; publishedAt: number }, publishAheadMs: number, now: number): Promise<string> {
  const waitMs = next.publishedAt + publishAheadMs - now;
  if (waitMs > 0) await sleep(Math.min(waitMs, publishAheadMs));
  return next.kid;
}

/** What a key store does at each step of a rotation (rotateWhenPublished). */
export interface RotationSteps {
  /** The next key as stored now; undefined when there is none (an earlier version rotated it away). */
  readNext(): Promise<{ kid: string; publishedAt: number } | undefined>;
  /** Publishes a next key where there is none. */
  ensureNext(): Promise<void>;
  /** Under the store's lock: makes `kid` the signer if it is still the next key; false when another rotation came first. */
  switchTo(kid: string): Promise<boolean>;
}

/**
 * The rotation both key stores share: wait, outside any lock, until the next key has been
 * published for the publish-ahead time, then switch to it under the lock only if it is
 * still the next key (another rotation meanwhile means waiting for the new next key).
 */
export async function rotateWhenPublished(steps: RotationSteps, publishAheadMs: number, now: () => number): Promise<void> {
  let waitedFor: string | undefined;
  for (;;) {
    const next = await steps.readNext();
    if (next === undefined) {
      await steps.ensureNext();
      continue;
    }
    if (next.kid !== waitedFor) {
      waitedFor = await awaitPublication(next, publishAheadMs, now());
      continue; // another rotation may have happened meanwhile
    }
    if (await steps.switchTo(waitedFor)) return;
  }
}
