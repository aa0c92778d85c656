/**
 * Checks a password that is shaped like a personal access token. The token must exist,
 * belong to the user named in the login, match (SHA-256 compared in constant time), be
 * neither revoked nor expired, and its user must be enabled. A token-shaped password
 * whose lookup id is unknown is no token: the caller goes on to the ordinary password
 * check, so the answer costs the same as any wrong password.
 */
import type { Knex } from 'knex';
import { hashesEqual, secretHash } from '../secrets.js';
import { UserStore, type UserRecord } from '../store/users.js';
import { lookupIdOf } from './secret.js';
import { AccessTokenStore } from './store.js';

/** last_used_at is written at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

/** Why a token was refused (audit only). */
export type AccessTokenRefusal = 'token_secret' | 'token_owner' | 'token_revoked' | 'token_expired' | 'disabled' | 'unknown';

/** The outcome for a token-shaped password; null when it is no token at all. */
export type AccessTokenCheck = { ok: true; user: UserRecord; tokenName: string } | { ok: false; reason: AccessTokenRefusal } | null;

/** Verifies personal access tokens presented as passwords. */
export class AccessTokenVerifier {
  private readonly tokens: AccessTokenStore;
  private readonly users: UserStore;

  constructor(db: Knex) {
    this.tokens = new AccessTokenStore(db);
    this.users = new UserStore(db);
  }

  async check(username: string, password: string, now: number): Promise<AccessTokenCheck> {
    const lookupId = lookupIdOf(password);
    if (lookupId === null) return null;
    const token = await this.tokens.findByLookup(lookupId);
    if (!token) return null;
    if (!hashesEqual(secretHash(password), token.secretHash)) return { ok: false, reason: 'token_secret' };
    if (token.userName !== username) return { ok: false, reason: 'token_owner' };
    if (token.revoked) return { ok: false, reason: 'token_revoked' };
    if (token.expiresAt <= now) return { ok: false, reason: 'token_expired' };
    const user = await this.users.find(username);
    if (!user) return { ok: false, reason: 'unknown' };
    if (user.disabled) return { ok: false, reason: 'disabled' };
    if (token.lastUsedAt === null || token.lastUsedAt < now - TOUCH_INTERVAL_MS) await this.tokens.touch(token.id, now, TOUCH_INTERVAL_MS);
    return { ok: true, user, tokenName: token.name };
  }
}
