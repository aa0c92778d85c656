/**
 * The OpenID provider as this relying party sees it: its discovery document (fetched on
 * first use, kept an hour, its `issuer` required to equal the configured one exactly, as
 * OpenID Connect Discovery demands), the authorization request, the code exchange at its
 * token endpoint, and the ID token verified with `jose` against the provider's JWKS:
 * signature, issuer, audience (and `azp` when there are several), expiry and nonce. Every
 * network call has a timeout, so a slow provider fails a sign-in instead of hanging it.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { OidcConfig } from '../../../shared/config/index.js';

/** Why a step against the provider failed; `reason` goes to the audit log. */
export class OidcError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
}

const DISCOVERY_TTL_MS = 60 * 60_000;
const HTTP_TIMEOUT_MS = 10_000;
/** Clock skew allowed between us and the provider. */
const CLOCK_TOLERANCE_SECONDS = 60;
/** Asymmetric algorithms only: an HS256 token would be signed with our own client secret. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** base64url(SHA-256(verifier)): the PKCE S256 challenge. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function isHttpUrl(value: unknown): value is string {
  return typeof value === 'string' && /^https?:\/\//i.test(value);
}

async function fetchJson(url: string, init: RequestInit, what: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (err) {
    throw new OidcError('provider_unreachable', `${what}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok || typeof body !== 'object' || body === null) {
    const error = (body as { error?: unknown } | undefined)?.error;
    throw new OidcError('provider_error', `${what}: HTTP ${res.status}${typeof error === 'string' ? ` ${error.slice(0, 100)}` : ''}`);
  }
  return body as Record<string, unknown>;
}

/** The configured OpenID provider. */
export class OidcProvider {
  private discovery: { value: Discovery; fetchedAt: number } | null = null;
  private jwks: ReturnType<typeof createRemoteJWKSet> | null = null;

  constructor(private readonly config: OidcConfig) {}

  private async metadata(): Promise<Discovery> {
    if (this.discovery && this.discovery.fetchedAt > Date.now() - DISCOVERY_TTL_MS) return this.discovery.value;
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const doc = await fetchJson(url, {}, 'discovery document');
    if (doc.issuer !== this.config.issuer) {
      throw new OidcError('discovery_issuer', `the discovery document names issuer ${String(doc.issuer).slice(0, 200)}, not the configured ${this.config.issuer}`);
    }
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
      if (!isHttpUrl(doc[field])) throw new OidcError('discovery_invalid', `the discovery document has no valid ${field}`);
    }
    const value = doc as unknown as Discovery;
    if (!this.jwks || this.discovery?.value.jwks_uri !== value.jwks_uri) this.jwks = createRemoteJWKSet(new URL(value.jwks_uri), { timeoutDuration: HTTP_TIMEOUT_MS });
    this.discovery = { value, fetchedAt: Date.now() };
    return value;
  }

  /** The provider's authorization URL for one sign-in (authorization code, PKCE S256, nonce). */
  async authorizationUrl(params: { state: string; nonce: string; codeVerifier: string }): Promise<string> {
    const url = new URL((await this.metadata()).authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUrl);
    url.searchParams.set('scope', this.config.scopes.join(' '));
    url.searchParams.set('state', params.state);
    url.searchParams.set('nonce', params.nonce);
    url.searchParams.set('code_challenge', pkceChallenge(params.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  /** Exchanges the code and returns the verified ID token's claims, completed from userinfo when the groups or username claim is missing. */
  async exchange(code: string, codeVerifier: string, nonce: string): Promise<JWTPayload> {
    const meta = await this.metadata();
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.config.redirectUrl, code_verifier: codeVerifier, client_id: this.config.clientId });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.config.clientSecret !== undefined) {
      const encode = (s: string) => encodeURIComponent(s);
      headers.authorization = `Basic ${Buffer.from(`${encode(this.config.clientId)}:${encode(this.config.clientSecret)}`).toString('base64')}`;
    }
    const tokens = await fetchJson(meta.token_endpoint, { method: 'POST', headers, body: form.toString() }, 'token endpoint');
    if (typeof tokens.id_token !== 'string') throw new OidcError('id_token_missing', 'the token response holds no id_token');
    const claims = await this.verifyIdToken(tokens.id_token, nonce);
    const missing = claims[this.config.groupsClaim] === undefined || claims[this.config.usernameClaim] === undefined;
    if (missing && meta.userinfo_endpoint && typeof tokens.access_token === 'string') {
      const info = await fetchJson(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' } }, 'userinfo endpoint');
      // Userinfo about someone else than the ID token's subject is ignored (OpenID Connect Core 5.3.2).
      if (info.sub === claims.sub) return { ...info, ...claims, [this.config.groupsClaim]: claims[this.config.groupsClaim] ?? info[this.config.groupsClaim], [this.config.usernameClaim]: claims[this.config.usernameClaim] ?? info[this.config.usernameClaim] };
    }
    return claims;
  }

  private async verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks!, {
        issuer: this.config.issuer,
        audience: this.config.clientId,
        algorithms: ID_TOKEN_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const claim = (err as { claim?: unknown }).claim;
      const reason = typeof claim === 'string' ? `id_token_${claim}` : typeof code === 'string' ? `id_token:${code}` : 'id_token_invalid';
      throw new OidcError(reason, `the ID token was refused: ${(err as Error).message}`);
    }
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== this.config.clientId) {
      throw new OidcError('id_token_azp', 'the ID token has several audiences and another authorized party');
    }
    if (payload.nonce !== nonce) throw new OidcError('id_token_nonce', 'the ID token does not carry the nonce of this sign-in');
    if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 255) throw new OidcError('id_token_sub', 'the ID token has no usable subject');
    return payload;
  }
}
