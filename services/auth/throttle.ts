/**
 * Login throttling (docs/security.md, "Login protection"). Every password attempt is
 * counted BEFORE the password is checked (a reservation in SQL), so however many arrive
 * at once, at most the limits are ever evaluated, on every replica together. Counters,
 * each over `windowSeconds`:
 *   - per account from one address (`maxFailures`): what a single guesser runs into;
 *   - per address (`addressMaxFailures`, higher: many honest users share NAT or CI runners);
 *   - per account from every address (`accountMaxFailures`): past it the account is
 *     guarded, and only an address with no failure on it in the window is still evaluated
 *     (one attempt each), so an attacker cannot lock the owner out from a clean machine.
 * A success deletes its own reservation and the account's failures from that address,
 * never other addresses' or the address counter's other rows, so an attacker holding one
 * valid account resets nothing for the others. An admin can clear an account (unlock).
 */
import { buildLoginThrottle, SETTINGS } from '../../shared/config/index.js';
import { ConfigSource } from '../../shared/config/source.js';
import { DockyardError } from '../../shared/http/errors.js';
import type { AttemptCounts, LoginAttemptStore } from './store/login-attempts.js';

/** How many attempts within which window trigger throttling. */
export interface ThrottlePolicy {
  /** Failures per account from one client address within the window. */
  maxFailures: number;
  /** Failures per client address within the window. */
  addressMaxFailures: number;
  /** Failures per account from all addresses, past which only clean addresses are evaluated. */
  accountMaxFailures: number;
  windowSeconds: number;
}

/** The defaults of the settings table. */
export const DEFAULT_THROTTLE: ThrottlePolicy = {
  maxFailures: Number(SETTINGS.auth.loginMaxFailures.default),
  addressMaxFailures: Number(SETTINGS.auth.loginMaxFailuresPerAddress.default),
  accountMaxFailures: Number(SETTINGS.auth.loginMaxFailuresPerAccount.default),
  windowSeconds: Number(SETTINGS.auth.loginWindowSeconds.default),
};

/**
 * Reads the AUTH_LOGIN_* settings through the settings table (same defaults and checks as
 * the loaders); for configurations built by hand, which carry no `login` section.
 */
export function throttlePolicyFromEnv(env: Record<string, string | undefined> = process.env): ThrottlePolicy {
  return buildLoginThrottle(new ConfigSource(undefined, env));
}

/** A reserved attempt: counted as a failure until `succeeded` says otherwise. */
export interface Reservation {
  attempt: string;
  account: string | null;
  address: string;
}

/** Counts login attempts and refuses those over the limits. */
export class LoginThrottle {
  constructor(
    private readonly store: LoginAttemptStore,
    private readonly policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts an attempt on `account` (null for a name no account can have) from `address`
   * before it is evaluated; throws TOOMANYREQUESTS (with Retry-After) instead when a limit
   * is reached. The attempt stays counted as a failure unless `succeeded` is called.
   */
  async reserve(account: string | null, address: string): Promise<Reservation> {
    const now = this.now();
    const windowMs = this.policy.windowSeconds * 1000;
    let retryAfterMs = 0;
    const attempt = await this.store.reserve({ account, address, now, since: now - windowMs, purgeBefore: now - windowMs }, (counts) => {
      retryAfterMs = this.refusal(counts, account !== null, now, windowMs);
      return retryAfterMs === 0;
    });
    if (attempt === null) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      throw new DockyardError('TOOMANYREQUESTS', `too many failed logins; retry after ${seconds} seconds`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
    return { attempt, account, address };
  }

  /** The attempt was a successful login: it and the account's failures from its address no longer count. */
  async succeeded(reservation: Reservation): Promise<void> {
    if (reservation.account !== null) await this.store.succeeded(reservation.attempt, reservation.account, reservation.address);
  }

  /** Milliseconds until this attempt would be allowed; 0 when it is allowed now. */
  private refusal(counts: AttemptCounts, hasAccount: boolean, now: number, windowMs: number): number {
    // When the count drops below `limit`: the moment the failure `limit` places from the newest leaves the window.
    const release = (times: number[], limit: number) => (times.length >= limit ? times[times.length - limit] + windowMs - now : 0);
    const hard = Math.max(release(counts.pair, this.policy.maxFailures), release(counts.address, this.policy.addressMaxFailures));
    if (hard > 0 || !hasAccount) return hard;
    const guarded = release(counts.account, this.policy.accountMaxFailures);
    if (guarded === 0 || counts.pair.length === 0) return 0;
    // A guarded account from an address that already failed on it: allowed again once the
    // address is clean (its last failure leaves) or the account is no longer guarded.
    return Math.min(guarded, counts.pair[counts.pair.length - 1] + windowMs - now);
  }
}
