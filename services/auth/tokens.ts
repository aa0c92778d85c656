/**
 * The token flow, independent of HTTP: check the service, turn credentials or a refresh
 * token into a principal, authorize the requested scopes against the grants read fresh
 * from the database, sign, optionally mint a refresh token, and audit the outcome. The
 * routes in routes/token.ts only parse requests and render responses.
 */
import type { Knex } from 'knex';
import { DockyardError, fail } from '../../shared/http/errors.js';
import { formatScope, type AccessRecord } from '../../shared/grammar/scope.js';
import { ADMIN_API_AUDIENCE } from './admin-gate.js';
import type { AuditLog } from './audit.js';
import type { Authenticator } from './authenticate.js';
import { DirectoryUnavailableError } from './identity/external.js';
import { authorize, usesGrants, type CredentialStamp, type Principal } from './authorize.js';
import type { IssuedToken, TokenIssuer } from './issue.js';
import { isAccountName } from './names.js';
import { randomSecret, secretHash } from './secrets.js';
import { GrantStore } from './store/grants.js';
import { RefreshTokenStore, type RefreshTokenRecord } from './store/refresh-tokens.js';
import type { OidcStore } from './oidc/store.js';
import type { LoginThrottle } from './throttle.js';

/** How the client asked: GET /token, or POST /token with a password, refresh token or (single sign-on) authorization code grant. */
export type TokenVia = 'get' | 'password' | 'refresh_token' | 'authorization_code';

/** Request facts that go into the audit entry. */
export interface TokenRequestInfo {
  via: TokenVia;
  service: string;
  clientAddress: string;
  clientId: string | undefined;
  requested: AccessRecord[];
}

/** A signed token, what it grants, and a refresh token when one was asked for. */
export interface TokenGrant {
  issued: IssuedToken;
  access: AccessRecord[];
  refreshToken?: string;
}

/** Refresh tokens' last_used_at is written at most this often. */
const REFRESH_TOUCH_INTERVAL_MS = 60_000;
/** Our refresh tokens are 43 characters; anything far longer is not one. */
const REFRESH_TOKEN_MAX = 256;

/** Issues tokens for the /token endpoint. */
export class TokenService {
  private readonly grants: GrantStore;
  private readonly refreshTokens: RefreshTokenStore;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      db: Knex;
      issuer: Pick<TokenIssuer, 'issue'>;
      authenticator: Authenticator;
      throttle: LoginThrottle;
      audit: AuditLog;
      service: string;
      refreshIdleSeconds: number;
      /** One-time codes of single sign-on (oidc/), redeemed by grant_type=authorization_code. */
      signIn?: { codes: Pick<OidcStore, 'redeemCode'>; refreshMaxAgeSeconds: number };
      now?: () => number;
    },
  ) {
    if (deps.service === ADMIN_API_AUDIENCE) throw new TypeError(`the token service must not be named ${ADMIN_API_AUDIENCE}: that audience is the admin API's`);
    this.grants = new GrantStore(deps.db);
    this.refreshTokens = new RefreshTokenStore(deps.db);
    this.now = deps.now ?? Date.now;
  }

  /**
   * The service a request names (the configured one when absent); REQUEST_INVALID for
   * another. The admin API audience is accepted from POST /token logins only (password or
   * refresh token), never from GET, which anonymous clients and registries' challenges use.
   */
  checkService(service: string | undefined, via: TokenVia): string {
    if (service === undefined || service === '') return this.deps.service;
    if (service === ADMIN_API_AUDIENCE) {
      if (via === 'get') throw fail('REQUEST_INVALID', `${ADMIN_API_AUDIENCE} tokens are issued by POST /token (grant_type=password or refresh_token) only`);
      return service;
    }
    if (service !== this.deps.service) {
      throw fail('REQUEST_INVALID', `unknown service "${service.slice(0, 100)}": this token server issues tokens for "${this.deps.service}"`);
    }
    return service;
  }

  /** Checks a username and password (throttled); UNAUTHORIZED for any refusal. */
  async login(username: string, password: string, info: TokenRequestInfo): Promise<Principal> {
    let result;
    try {
      result = await this.deps.authenticator.login(username, password, info.clientAddress);
    } catch (err) {
      if (err instanceof DockyardError && err.code === 'TOOMANYREQUESTS') await this.auditRefusal(username, info, 'throttled', 'throttled');
      if (err instanceof DirectoryUnavailableError) await this.auditRefusal(username, info, 'unavailable', 'directory_unavailable', { directory: err.directoryDetail });
      throw err;
    }
    if (!result.ok) {
      await this.auditRefusal(username, info, 'denied', result.reason);
      throw invalidCredentials(this.deps.service);
    }
    return result.principal;
  }

  /**
   * The principal a refresh token stands for, if the token is live, bound to this service
   * and client_id, not idle for too long, and its subject still exists and is enabled.
   * Failures count against the client address only (a token names no account).
   */
  async redeem(refreshToken: string, info: TokenRequestInfo & { clientId: string }): Promise<Principal> {
    const now = this.now();
    const record = refreshToken.length <= REFRESH_TOKEN_MAX ? await this.refreshTokens.findByHash(secretHash(refreshToken)) : null;
    let outcome;
    try {
      outcome = record ? await this.checkRefreshToken(record, info, now) : { reason: 'unknown' };
    } catch (err) {
      // The token stays valid: the directory may answer for its user on the next try.
      if (err instanceof DirectoryUnavailableError) await this.auditRefusal(record?.subjectName ?? '', info, 'unavailable', 'refresh_token:directory_unavailable', { directory: err.directoryDetail });
      throw err;
    }
    if ('principal' in outcome) {
      if (record && record.lastUsedAt < now - REFRESH_TOUCH_INTERVAL_MS) await this.refreshTokens.touch(record.id, now, REFRESH_TOUCH_INTERVAL_MS);
      return outcome.principal;
    }
    // A token that can never work again is revoked now rather than checked again later.
    if (record && !record.revoked && ['idle', 'max_age', 'subject', 'credential'].includes(outcome.reason)) await this.refreshTokens.revoke(record.id);
    await this.auditRefusal(record?.subjectName ?? '', info, 'denied', `refresh_token:${outcome.reason}`);
    // Counted against the address only (a token names no account); 429 past its limit.
    await this.deps.throttle.reserve(null, info.clientAddress);
    throw fail('UNAUTHORIZED', 'invalid or expired refresh token; log in again');
  }

  /**
   * The user a one-time sign-in code (oidc/flow.ts) stands for: unused, unexpired, issued
   * for this redirect_uri, its user still enabled. Refusals are audited and count against
   * the client address, like refresh tokens.
   */
  async redeemCode(code: string, redirectUri: string, info: TokenRequestInfo): Promise<Principal> {
    const codes = this.deps.signIn?.codes;
    const found = !codes ? { ok: false as const, reason: 'sso_off' } : code.length <= REFRESH_TOKEN_MAX ? await codes.redeemCode(secretHash(code), redirectUri, this.now()) : { ok: false as const, reason: 'unknown' };
    const principal = found.ok ? await this.deps.authenticator.principalFor('user', found.userName) : null;
    if (principal) return principal;
    await this.auditRefusal(found.ok ? found.userName : '', info, 'denied', `authorization_code:${found.ok ? 'subject' : found.reason}`);
    await this.deps.throttle.reserve(null, info.clientAddress);
    throw fail('UNAUTHORIZED', 'invalid, expired or already used sign-in code; sign in again');
  }

  /** When a refresh token issued now for a sign-in code stops working. */
  signInRefreshExpiresAt(): number | undefined {
    return this.deps.signIn && this.now() + this.deps.signIn.refreshMaxAgeSeconds * 1000;
  }

  /**
   * Revokes one refresh token (RFC 7009): holding it is the proof. A token that is
   * unknown, already revoked or issued to another client_id changes nothing and is not
   * reported as such, so the answer tells a guesser nothing.
   */
  async revokeRefreshToken(refreshToken: string, clientId: string, clientAddress: string): Promise<void> {
    const record = refreshToken.length <= REFRESH_TOKEN_MAX ? await this.refreshTokens.findByHash(secretHash(refreshToken)) : null;
    if (!record || record.revoked || record.clientId !== clientId) return;
    await this.refreshTokens.revoke(record.id);
    await this.deps.audit.record({
      at: this.now(),
      actor: record.subjectName,
      action: 'refresh_token.revoke',
      outcome: 'ok',
      target: `${record.subjectKind}:${record.subjectName}`,
      clientAddress,
      details: { clientId },
    });
  }

  private async checkRefreshToken(record: RefreshTokenRecord, info: TokenRequestInfo, now: number): Promise<{ principal: Principal } | { reason: string }> {
    if (record.revoked) return { reason: 'revoked' };
    if (record.service !== info.service) return { reason: 'service' };
    if (record.clientId !== info.clientId) return { reason: 'client_id' };
    if (record.lastUsedAt + this.deps.refreshIdleSeconds * 1000 < now) return { reason: 'idle' };
    if (record.expiresAt !== null && record.expiresAt <= now) return { reason: 'max_age' };
    const principal = await this.deps.authenticator.principalFor(record.subjectKind, record.subjectName);
    if (!principal) return { reason: 'subject' };
    // Issued to another user of that name, or before a password change or disabling.
    if (record.subjectKind === 'user' && !sameCredential(record.credential, principal.credential)) return { reason: 'credential' };
    return { principal };
  }

  /**
   * Authorizes and signs a token for `principal`. With `offline` (and a client_id) a
   * logged-in principal also gets a refresh token; anonymous never does. An admin API
   * token carries no registry access: the admin API re-reads the user on every request.
   * A personal access token is a registry credential only: no admin API token and no
   * refresh token (docker then keeps sending it, so revoking it takes effect at once).
   * `refreshExpiresAt` caps the refresh token's life (single sign-on).
   */
  async grant(principal: Principal, info: TokenRequestInfo, offline: boolean, refreshExpiresAt?: number): Promise<TokenGrant> {
    const forAdminApi = info.service === ADMIN_API_AUDIENCE;
    if (forAdminApi && principal.kind !== 'user') throw fail('DENIED', `${ADMIN_API_AUDIENCE} tokens are issued to users only`);
    if (forAdminApi && principal.accessToken !== undefined) {
      await this.auditRefusal(principal.name, info, 'denied', 'access_token_admin_api');
      throw fail('DENIED', `personal access tokens are for the registry only, not for ${ADMIN_API_AUDIENCE} tokens`);
    }
    const refreshKind = offline && principal.kind !== 'anonymous' && principal.accessToken === undefined ? principal.kind : null;
    if (refreshKind && !info.clientId) throw fail('REQUEST_INVALID', 'client_id is required to obtain a refresh token');
    // An admin's access never depends on the grants, so they are not read for one.
    const rules = !forAdminApi && usesGrants(principal) ? await this.grants.forPrincipal(principal) : [];
    const { access, catalog } = forAdminApi ? { access: [], catalog: undefined } : authorize(principal, info.requested, rules);
    const issued = await this.deps.issuer.issue({ subject: principal.name, audience: info.service, access, ...(catalog ? { catalog } : {}) });
    let refreshToken: string | undefined;
    if (refreshKind && info.clientId) {
      refreshToken = randomSecret();
      await this.refreshTokens.insert({
        tokenHash: secretHash(refreshToken),
        subjectKind: refreshKind,
        subjectName: principal.name,
        service: info.service,
        clientId: info.clientId,
        now: this.now(),
        credential: principal.credential,
        expiresAt: refreshExpiresAt,
      });
    }
    await this.deps.audit.record({
      ...this.auditBase(principal.name, info),
      outcome: 'ok',
      details: { ...this.auditDetails(info), granted: access.map(formatScope), refreshToken: refreshToken !== undefined, ...(principal.accessToken !== undefined ? { accessToken: principal.accessToken } : {}) },
    });
    return { issued, access, refreshToken };
  }

  /** Audits a refused request; a name no account can have is recorded only in its safe form (see auditName). */
  private async auditRefusal(name: string, info: TokenRequestInfo, outcome: string, reason: string, extra: Record<string, string> = {}): Promise<void> {
    const { actor, details } = auditName(name);
    await this.deps.audit.record({ ...this.auditBase(actor, info), outcome, details: { ...this.auditDetails(info), reason, ...extra, ...details } });
  }

  private auditBase(actor: string, info: TokenRequestInfo) {
    return { at: this.now(), actor, action: 'token.issue', target: info.service, clientAddress: info.clientAddress };
  }

  private auditDetails(info: TokenRequestInfo): Record<string, unknown> {
    return { via: info.via, clientId: info.clientId ?? null, requested: info.requested.map(formatScope) };
  }
}

function sameCredential(a: CredentialStamp | null, b: CredentialStamp | undefined): boolean {
  return a !== null && b !== undefined && a.userId === b.userId && a.version === b.version;
}

/** How much of a refused name the audit keeps, escaped. */
const AUDITED_NAME_MAX = 64;

/**
 * The audit actor for a name a client sent. A name outside the account grammar is the
 * client's own bytes (newlines, terminal escapes, 10 000 characters): it becomes
 * `invalid-name:` plus a hash prefix, so equal names still group together, and the details
 * keep a clipped form with every character outside printable ASCII escaped.
 */
export function auditName(name: string): { actor: string; details: Record<string, string> } {
  if (name === '' || isAccountName(name)) return { actor: name, details: {} };
  const clipped = [...name].slice(0, AUDITED_NAME_MAX).join('');
  const escaped = clipped.replace(/[^\x20-\x7e]|\\/gu, (c) => (c === '\\' ? '\\\\' : `\\u{${c.codePointAt(0)!.toString(16)}}`));
  return { actor: `invalid-name:${secretHash(name).slice(0, 16)}`, details: { name: escaped } };
}

/** A client_id fits the refresh_tokens column and carries no control characters (PostgreSQL refuses NUL). */
const CLIENT_ID = /^[^\u0000-\u001f\u007f]{1,255}$/;

/** The client_id as given; REQUEST_INVALID unless it is 1 to 255 characters without control characters. */
export function checkClientId(clientId: string): string {
  if (!CLIENT_ID.test(clientId)) throw fail('REQUEST_INVALID', 'client_id must be 1 to 255 characters without control characters');
  return clientId;
}

/** The 401 for wrong credentials: identical for unknown users, wrong passwords and disabled accounts. */
export function invalidCredentials(realm: string): DockyardError {
  return new DockyardError('UNAUTHORIZED', 'invalid username or password', {
    headers: { 'WWW-Authenticate': `Basic realm="${realm.replace(/["\\]/g, '')}"` },
  });
}
