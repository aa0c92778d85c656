/**
 * Signs Docker-token-spec JWTs. The header carries `kid` (libtrust fingerprint) and `x5c`
 * (the signing certificate) so CNCF distribution 2.8 and 3.x and our own registry accept
 * the token; `aud` is a plain string because distribution 2.8 rejects an array.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey, SigningKeys } from '../../shared/crypto/keys.js';
import { CATALOG_CLAIM } from '../../shared/grammar/repository-pattern.js';
import type { AccessRecord } from '../../shared/grammar/scope.js';

/** What a token is issued for. */
export interface TokenRequest {
  /** Principal name; '' for anonymous. */
  subject: string;
  /** The registry service name the token is for (becomes `aud`). */
  audience: string;
  access: AccessRecord[];
  /** Patterns for a `registry:catalog:list` access entry (the `dockyard_catalog` claim). */
  catalog?: string[];
}

/** A signed token and the fields the /token response reports about it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** RFC 3339 time of issue. */
  issuedAt: string;
}

/** How TokenIssuer trades freshness for speed; both default to 0 (check and sign every time). */
export interface IssuerTuning {
  /**
   * A token signed for the same key, subject, audience and access less than this many
   * seconds ago is handed out again (with its remaining lifetime) instead of signing anew.
   * Authorization still runs per request, so a changed grant yields a different token.
   */
  reuseSeconds?: number;
  /** The key directory is checked for a rotation at most this often. */
  keyCheckIntervalMs?: number;
}

/** Most reusable tokens remembered; older ones are simply signed again. */
const REUSE_MAX_ENTRIES = 10_000;

interface SignedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

/** Issues tokens signed by the key source's current key, following rotations without restart. */
export class TokenIssuer {
  private readonly keys: SigningKeys;
  private readonly issuer: string;
  private readonly ttlSeconds: number;
  private readonly reuseSeconds: number;
  private readonly keyCheckIntervalMs: number;
  /** WebCrypto keys imported once per kid: importing per token would dominate signing time. */
  private signer: { kid: string; cryptoKey: webcrypto.CryptoKey; x5c: string } | null = null;
  /** Recently signed tokens by kid, audience, subject and access (insertion order = age). */
  private readonly recent = new Map<string, SignedToken>();

  constructor(opts: { keys: SigningKeys; issuer: string; ttlSeconds: number } & IssuerTuning) {
    if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0) throw new RangeError('ttlSeconds must be a positive integer');
    if (opts.issuer === '') throw new TypeError('issuer must not be empty');
    this.keys = opts.keys;
    this.issuer = opts.issuer;
    this.ttlSeconds = opts.ttlSeconds;
    // Never more than a tenth of the lifetime: a reused token must still be useful for long.
    this.reuseSeconds = Math.min(Math.max(opts.reuseSeconds ?? 0, 0), Math.floor(opts.ttlSeconds / 10));
    this.keyCheckIntervalMs = Math.max(opts.keyCheckIntervalMs ?? 0, 0);
  }

  /** Signs (or, within the reuse window, hands out again) a token granting `access` to `subject` for `audience`. */
  async issue(req: TokenRequest): Promise<IssuedToken> {
    await this.keys.refresh(this.keyCheckIntervalMs);
    const key = this.keys.current();
    const now = Math.floor(Date.now() / 1000);
    if (this.reuseSeconds === 0) return this.reported(await this.sign(key, req, now), now);
    const cacheKey = JSON.stringify([key.kid, req.audience, req.subject, req.access, req.catalog ?? null]);
    const cached = this.recent.get(cacheKey);
    if (cached && now - cached.issuedAt < this.reuseSeconds) return this.reported(cached, now);
    const signed = await this.sign(key, req, now);
    this.recent.delete(cacheKey);
    this.recent.set(cacheKey, signed);
    if (this.recent.size > REUSE_MAX_ENTRIES) this.recent.delete(this.recent.keys().next().value!);
    return this.reported(signed, now);
  }

  private reported(signed: SignedToken, now: number): IssuedToken {
    return { token: signed.token, expiresIn: signed.expiresAt - now, issuedAt: new Date(signed.issuedAt * 1000).toISOString() };
  }

  private async sign(key: SigningKey, req: TokenRequest, now: number): Promise<SignedToken> {
    const signer = await this.currentSigner(key);
    const access = req.access.map((r) => ({ type: r.type, name: r.name, actions: [...r.actions] }));
    const claims = req.catalog === undefined ? { access } : { access, [CATALOG_CLAIM]: [...req.catalog] };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: signer.kid, x5c: [signer.x5c] })
      .setIssuer(this.issuer)
      .setSubject(req.subject)
      .setAudience(req.audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.ttlSeconds)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(signer.cryptoKey);
    return { token, issuedAt: now, expiresAt: now + this.ttlSeconds };
  }

  private async currentSigner(key: SigningKey): Promise<{ kid: string; cryptoKey: webcrypto.CryptoKey; x5c: string }> {
    if (this.signer?.kid === key.kid) return this.signer;
    const cryptoKey = await webcrypto.subtle.importKey(
      'pkcs8',
      key.privateKey.export({ type: 'pkcs8', format: 'der' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    // Standard base64 (not base64url), as RFC 7515 4.1.6 requires for x5c.
    this.signer = { kid: key.kid, cryptoKey, x5c: key.certificateDer.toString('base64') };
    return this.signer;
  }
}
