/**
 * Signs Docker-token-spec JWTs. The header carries `kid` (libtrust fingerprint) and `x5c`
 * (the signing certificate) so CNCF distribution 2.8 and 3.x and our own registry accept
 * the token; `aud` is a plain string because distribution 2.8 rejects an array.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyStore, SigningKey } from '../../shared/keys.js';
import type { AccessRecord } from '../../shared/scope.js';

/** What a token is issued for. */
export interface TokenRequest {
  /** Principal name; '' for anonymous. */
  subject: string;
  /** The registry service name the token is for (becomes `aud`). */
  audience: string;
  access: AccessRecord[];
}

/** A signed token and the fields the /token response reports about it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** RFC 3339 time of issue. */
  issuedAt: string;
}

/** Issues tokens signed by the KeyStore's current key, following rotations without restart. */
export class TokenIssuer {
  private readonly keys: KeyStore;
  private readonly issuer: string;
  private readonly ttlSeconds: number;
  /** WebCrypto keys imported once per kid: importing per token would dominate signing time. */
  private signer: { kid: string; cryptoKey: webcrypto.CryptoKey; x5c: string } | null = null;

  constructor(opts: { keys: KeyStore; issuer: string; ttlSeconds: number }) {
    if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0) throw new RangeError('ttlSeconds must be a positive integer');
    if (opts.issuer === '') throw new TypeError('issuer must not be empty');
    this.keys = opts.keys;
    this.issuer = opts.issuer;
    this.ttlSeconds = opts.ttlSeconds;
  }

  /** Signs a token granting `access` to `subject` for the registry `audience`. */
  async issue(req: TokenRequest): Promise<IssuedToken> {
    await this.keys.refresh();
    const signer = await this.currentSigner(this.keys.current());
    const now = Math.floor(Date.now() / 1000);
    const access = req.access.map((r) => ({ type: r.type, name: r.name, actions: [...r.actions] }));
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: signer.kid, x5c: [signer.x5c] })
      .setIssuer(this.issuer)
      .setSubject(req.subject)
      .setAudience(req.audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.ttlSeconds)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(signer.cryptoKey);
    return { token, expiresIn: this.ttlSeconds, issuedAt: new Date(now * 1000).toISOString() };
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
