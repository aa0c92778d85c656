/**
 * Login throttling: after `maxFailures` failed logins within `windowSeconds` for one
 * account, or `addressMaxFailures` from one client address, further attempts get 429
 * TOOMANYREQUESTS with Retry-After until the oldest counted failure leaves the window.
 * The address limit is higher by default because many honest users can share one address
 * (NAT, CI runners). State is in SQL, so replicas share it. A success resets its account's
 * counter, never the address counter (an attacker holding one valid account must not
 * reset the counter for the others).
 */
import { buildLoginThrottle, SETTINGS } from '../../shared/config/index.js';
import { ConfigSource } from '../../shared/config/source.js';
import { DockyardError } from '../../shared/http/errors.js';
import { failureKeyId, type FailureKey, type LoginFailureStore } from './store/login-failures.js';

/** How many failures within which window trigger throttling. */
export interface ThrottlePolicy {
  /** Failures per account within the window. */
  maxFailures: number;
  /** Failures per client address within the window. */
  addressMaxFailures: number;
  windowSeconds: number;
}

/** The defaults of the settings table: 10 failures per account or 50 per address in 5 minutes. */
export const DEFAULT_THROTTLE: ThrottlePolicy = {
  maxFailures: Number(SETTINGS.auth.loginMaxFailures.default),
  addressMaxFailures: Number(SETTINGS.auth.loginMaxFailuresPerAddress.default),
  windowSeconds: Number(SETTINGS.auth.loginWindowSeconds.default),
};

/**
 * Reads AUTH_LOGIN_MAX_FAILURES, AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS and
 * AUTH_LOGIN_WINDOW_SECONDS through the settings table (same defaults and checks as the
 * loaders); for configurations built by hand, which carry no `login` section.
 */
export function throttlePolicyFromEnv(env: Record<string, string | undefined> = process.env): ThrottlePolicy {
  return buildLoginThrottle(new ConfigSource(undefined, env));
}

function keysFor(account: string | null, address: string): FailureKey[] {
  const keys: FailureKey[] = [{ kind: 'address', key: address }];
  if (account !== null) keys.push({ kind: 'account', key: account });
  return keys;
}

/** Counts failed logins and refuses attempts over the limit. */
export class LoginThrottle {
  constructor(
    private readonly store: LoginFailureStore,
    private readonly policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Throws TOOMANYREQUESTS (with Retry-After) when the account or the address is over the
   * limit; otherwise returns how many failures the account has in the window.
   */
  async check(account: string | null, address: string): Promise<{ accountFailures: number }> {
    const now = this.now();
    const windowMs = this.policy.windowSeconds * 1000;
    const keys = keysFor(account, address);
    const counts = await this.store.failuresSince(keys, now - windowMs);
    let retryAfterMs = 0;
    for (const key of keys) {
      const times = counts.get(failureKeyId(key)) ?? [];
      const limit = key.kind === 'address' ? this.policy.addressMaxFailures : this.policy.maxFailures;
      if (times.length >= limit) {
        // The count drops below the limit when this failure leaves the window.
        const releasing = times[times.length - limit];
        retryAfterMs = Math.max(retryAfterMs, releasing + windowMs - now);
      }
    }
    if (retryAfterMs > 0) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      throw new DockyardError('TOOMANYREQUESTS', `too many failed logins; retry after ${seconds} seconds`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
    return { accountFailures: account === null ? 0 : (counts.get(failureKeyId({ kind: 'account', key: account }))?.length ?? 0) };
  }

  /** Counts a failed attempt against the account (when known) and the address. */
  async failure(account: string | null, address: string): Promise<void> {
    const now = this.now();
    await this.store.record(keysFor(account, address), now, now - this.policy.windowSeconds * 1000);
  }

  /** Resets the account counter after a successful login. */
  async success(account: string): Promise<void> {
    await this.store.clear({ kind: 'account', key: account });
  }
}
