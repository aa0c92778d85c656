/**
 * One single sign-on, from the web front end's redirect to the one-time code it gets back.
 *
 * start: the redirect_uri must be one of `auth.oidc.allowedredirects`, exactly (no open
 * redirect); a random state, nonce and PKCE verifier are stored for ten minutes under the
 * state's hash, together with the hash of a random value put in an HttpOnly cookie, so the
 * callback is only accepted from the browser that began (no login CSRF).
 * finish: the state is taken once, the cookie checked, the code exchanged and the ID token
 * verified (provider.ts), the user provisioned (provision.ts), and a one-time code (60 s,
 * stored hashed, bound to the redirect_uri) sent to the front end, which redeems it at
 * /token with grant_type=authorization_code. Every refusal is audited (`oidc.login`) with
 * its reason; the browser only learns `access_denied`.
 */
import type { OidcConfig } from '../../../shared/config/index.js';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import type { AuditLog } from '../audit.js';
import { auditName } from '../tokens.js';
import { hashesEqual, randomSecret, secretHash } from '../secrets.js';
import type { Knex } from '../../../shared/db/index.js';
import { OidcError, OidcProvider } from './provider.js';
import { OidcProvisioner } from './provision.js';
import { OidcStore } from './store.js';

const LOGIN_TTL_MS = 10 * 60_000;
const CODE_TTL_MS = 60_000;
/** Expired sign-ins and codes are kept this long, so a late replay is audited with its reason. */
const KEEP_EXPIRED_MS = 60 * 60_000;
const CLIENT_STATE = /^[\x21-\x7e]{0,512}$/;
/** Sign-ins that may be in progress at once: anyone can begin one, and each is a row for ten minutes. */
export const MAX_PENDING_LOGINS = 10_000;
/** Longer than any authorization code a provider issues; a longer one is not sent on. */
const PROVIDER_CODE_MAX = 4096;

/** What the browser is sent to, and the cookie value that binds the sign-in to it. */
export interface StartedSignIn {
  location: string;
  browserSecret: string;
}

/** Runs sign-ins against the configured provider. */
export class SignInFlow {
  private readonly store: OidcStore;
  private readonly provider: OidcProvider;
  private readonly provisioner: OidcProvisioner;
  private readonly now: () => number;

  constructor(
    private readonly deps: { db: Knex; config: OidcConfig; bcryptCost: number; audit: AuditLog; now?: () => number; maxPendingLogins?: number },
  ) {
    this.now = deps.now ?? Date.now;
    this.store = new OidcStore(deps.db);
    this.provider = new OidcProvider(deps.config);
    this.provisioner = new OidcProvisioner(deps.db, deps.config, deps.bcryptCost, this.now);
  }

  /** Begins a sign-in for the front end at `redirectUri`; REQUEST_INVALID for a redirect_uri not allowed. */
  async start(input: { redirectUri: string | undefined; clientState: string | undefined; clientAddress: string }): Promise<StartedSignIn> {
    const redirectUri = input.redirectUri ?? '';
    const clientState = input.clientState ?? '';
    if (!this.deps.config.allowedRedirects.includes(redirectUri)) {
      await this.audit('', 'refused', input.clientAddress, { step: 'start', reason: 'redirect_uri', redirectUri: redirectUri.slice(0, 200) });
      throw fail('REQUEST_INVALID', 'redirect_uri is not one of the allowed redirects (auth.oidc.allowedredirects)');
    }
    if (!CLIENT_STATE.test(clientState)) throw fail('REQUEST_INVALID', 'state must be at most 512 printable ASCII characters');
    const now = this.now();
    await this.store.purge(now - KEEP_EXPIRED_MS);
    if ((await this.store.countPendingLogins(now)) >= (this.deps.maxPendingLogins ?? MAX_PENDING_LOGINS)) {
      await this.audit('', 'throttled', input.clientAddress, { step: 'start', reason: 'pending_logins' });
      throw new DockyardError('TOOMANYREQUESTS', 'too many sign-ins in progress; try again in a few minutes', { headers: { 'Retry-After': '60' } });
    }
    const state = randomSecret();
    const nonce = randomSecret();
    const codeVerifier = randomSecret();
    const browserSecret = randomSecret();
    let location: string;
    try {
      location = await this.provider.authorizationUrl({ state, nonce, codeVerifier });
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      await this.audit('', 'refused', input.clientAddress, { step: 'start', reason: err.reason, message: err.message });
      throw fail('UNAVAILABLE', 'the OpenID provider cannot be reached; try again later');
    }
    await this.store.insertLogin({ stateHash: secretHash(state), browserHash: secretHash(browserSecret), nonce, codeVerifier, redirectUri, clientState, expiresAt: now + LOGIN_TTL_MS });
    return { location, browserSecret };
  }

  /**
   * Completes a sign-in at the callback; returns where to send the browser. Without a
   * valid state there is nowhere safe to send it: REQUEST_INVALID. After that, failures go
   * back to the front end as `error=access_denied` (or `temporarily_unavailable`).
   */
  async finish(input: { state?: string; code?: string; error?: string; browserSecret?: string; clientAddress: string }): Promise<string> {
    const address = input.clientAddress;
    const login = input.state ? await this.store.takeLogin(secretHash(input.state)) : null;
    if (!login) {
      await this.audit('', 'refused', address, { step: 'callback', reason: 'state' });
      throw fail('REQUEST_INVALID', 'unknown or already used sign-in state; start the sign-in again');
    }
    const back = (params: Record<string, string>): string => {
      const url = new URL(login.redirectUri);
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
      if (login.clientState !== '') url.searchParams.set('state', login.clientState);
      return url.toString();
    };
    const refuse = async (reason: string, details: Record<string, unknown> = {}, actor = '', error = 'access_denied'): Promise<string> => {
      await this.audit(actor, 'refused', address, { step: 'callback', reason, ...details });
      return back({ error });
    };
    if (login.expiresAt <= this.now()) return refuse('state_expired');
    if (!input.browserSecret || !hashesEqual(secretHash(input.browserSecret), login.browserHash)) return refuse('browser');
    if (input.error !== undefined) return refuse('provider_denied', { error: input.error.slice(0, 100) });
    if (!input.code) return refuse('code_missing');
    if (input.code.length > PROVIDER_CODE_MAX) return refuse('code_invalid');
    let claims;
    try {
      claims = await this.provider.exchange(input.code, login.codeVerifier, login.nonce);
    } catch (err) {
      if (!(err instanceof OidcError)) throw err;
      const unreachable = err.reason === 'provider_unreachable';
      return refuse(err.reason, { message: err.message.slice(0, 300) }, '', unreachable ? 'temporarily_unavailable' : 'access_denied');
    }
    const subject = claims.sub!;
    const result = await this.provisioner.provision({ subject, username: claims[this.deps.config.usernameClaim], groups: claims[this.deps.config.groupsClaim] });
    if (!result.ok) return refuse(result.reason, { subject }, result.name === undefined ? '' : auditName(result.name).actor);
    const code = randomSecret();
    await this.store.insertCode({ codeHash: secretHash(code), userId: result.userId, redirectUri: login.redirectUri, expiresAt: this.now() + CODE_TTL_MS });
    await this.audit(result.name, 'ok', address, { step: 'callback', subject, created: result.created, groups: result.groups, unknownGroups: result.unknownGroups });
    return back({ code });
  }

  private async audit(actor: string, outcome: string, clientAddress: string, details: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({ at: this.now(), actor, action: 'oidc.login', target: this.deps.config.issuer, clientAddress, outcome, details });
  }
}
