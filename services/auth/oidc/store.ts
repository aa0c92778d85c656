/**
 * The single sign-on tables (migration 040): sign-ins in progress, one-time codes and the
 * links from users to provider identities. Sign-ins and codes are taken exactly once: the
 * row is claimed by a conditional DELETE or UPDATE, so two replicas racing on the same
 * state or code cannot both win.
 */
import type { Knex } from 'knex';
import { toBool, toMillis, type Queryable } from '../store/common.js';

/** A sign-in in progress, as the callback needs it. */
export interface PendingLogin {
  browserHash: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  clientState: string;
  expiresAt: number;
}

/** A user's link to an identity at the provider. */
export interface OidcIdentity {
  userId: number;
  issuer: string;
  subject: string;
  managedGroups: string[];
}

/** What redeeming a one-time code found. */
export type CodeLookup =
  | { ok: true; userName: string }
  | { ok: false; reason: 'unknown' | 'reused' | 'expired' | 'redirect_uri' };

function parseGroups(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** oidc_logins, oidc_codes and oidc_identities. */
export class OidcStore {
  constructor(private readonly db: Knex) {}

  /** Stores a sign-in in progress under the hash of its state. */
  async insertLogin(login: PendingLogin & { stateHash: string }): Promise<void> {
    await this.db('oidc_logins').insert({
      state_hash: login.stateHash,
      browser_hash: login.browserHash,
      nonce: login.nonce,
      code_verifier: login.codeVerifier,
      redirect_uri: login.redirectUri,
      client_state: login.clientState,
      expires_at: login.expiresAt,
    });
  }

  /** Sign-ins begun and not yet expired at `now`. */
  async countPendingLogins(now: number): Promise<number> {
    const row = await this.db('oidc_logins').where('expires_at', '>', now).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /** Removes the sign-in with this state hash and returns it; null when absent or already taken. */
  async takeLogin(stateHash: string): Promise<PendingLogin | null> {
    return this.db.transaction(async (trx) => {
      const row = await trx('oidc_logins').where({ state_hash: stateHash }).first();
      if (!row) return null;
      const deleted = await trx('oidc_logins').where({ id: row.id }).delete();
      if (deleted === 0) return null;
      return {
        browserHash: row.browser_hash,
        nonce: row.nonce,
        codeVerifier: row.code_verifier,
        redirectUri: row.redirect_uri,
        clientState: row.client_state,
        expiresAt: toMillis(row.expires_at),
      };
    });
  }

  /** Stores a one-time code by its hash. */
  async insertCode(code: { codeHash: string; userId: number; redirectUri: string; expiresAt: number }): Promise<void> {
    await this.db('oidc_codes').insert({ code_hash: code.codeHash, user_id: code.userId, redirect_uri: code.redirectUri, expires_at: code.expiresAt, used: false });
  }

  /**
   * Marks the code used, once: the UPDATE only succeeds for an unused code, so a second
   * redemption (a replay, or the same code on two replicas) is told `reused`. A wrong
   * redirect_uri also uses the code up: it was shown to someone it was not meant for.
   */
  async redeemCode(codeHash: string, redirectUri: string, now: number): Promise<CodeLookup> {
    return this.db.transaction(async (trx) => {
      const row = await trx('oidc_codes as c')
        .join('users as u', 'u.id', 'c.user_id')
        .where('c.code_hash', codeHash)
        .first('c.id as id', 'c.used as used', 'c.expires_at as expires_at', 'c.redirect_uri as redirect_uri', 'u.name as user_name');
      if (!row) return { ok: false, reason: 'unknown' } as const;
      const claimed = await trx('oidc_codes').where({ id: row.id, used: false }).update({ used: true });
      if (claimed === 0 || toBool(row.used)) return { ok: false, reason: 'reused' } as const;
      if (toMillis(row.expires_at) <= now) return { ok: false, reason: 'expired' } as const;
      if (row.redirect_uri !== redirectUri) return { ok: false, reason: 'redirect_uri' } as const;
      return { ok: true, userName: String(row.user_name) } as const;
    });
  }

  /** Deletes sign-ins and codes that expired before `before` (kept a while so a late replay is told why). */
  async purge(before: number): Promise<number> {
    const logins = await this.db('oidc_logins').where('expires_at', '<', before).delete();
    const codes = await this.db('oidc_codes').where('expires_at', '<', before).delete();
    return logins + codes;
  }

  /** The identity with this issuer and subject, or null. */
  async findIdentity(issuer: string, subject: string, trx?: Queryable): Promise<OidcIdentity | null> {
    const row = await (trx ?? this.db)('oidc_identities').where({ issuer, subject }).first();
    return row ? { userId: Number(row.user_id), issuer: row.issuer, subject: row.subject, managedGroups: parseGroups(row.managed_groups) } : null;
  }

  /** Links a user to an identity. */
  async insertIdentity(identity: OidcIdentity & { now: number }, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('oidc_identities').insert({
      user_id: identity.userId,
      issuer: identity.issuer,
      subject: identity.subject,
      managed_groups: JSON.stringify(identity.managedGroups),
      created_at: identity.now,
      last_login_at: identity.now,
    });
  }

  /** Records a sign-in and the groups the provider now manages. */
  async updateIdentity(userId: number, managedGroups: string[], now: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('oidc_identities').where({ user_id: userId }).update({ managed_groups: JSON.stringify(managedGroups), last_login_at: now });
  }
}
