/**
 * Key resolvers for the TokenVerifier: where trusted token signing keys come from.
 * - a PEM certificate bundle file (distribution's `rootcertbundle`), re-read when a token
 *   names a key it does not know and the file changed, and every little while otherwise;
 * - a JWKS URL, fetched again when a token names an unknown kid or the copy grew old;
 * - the auth service's key directory (`npm start`), checked again on an unknown kid.
 * Whatever a token says, each source re-reads or re-fetches at most once per interval
 * (RefreshLimiter, shared by all requests): forged tokens cannot drive file reads or
 * fetches at their pace. A key inside the token (`jwk`) is never used; an `x5c` chain is
 * used only when its leaf is one of the bundle's certificates or is signed by a CA
 * certificate of the bundle. An unknown key is the token's fault (401); only a source that
 * never delivered any key at all (JWKS endpoint down since start) is an outage (503).
 */
import { createPublicKey, X509Certificate, type KeyObject, type webcrypto } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { calculateJwkThumbprint, createLocalJWKSet, errors as jose, type JSONWebKeySet } from 'jose';
import { libtrustKeyId, type SigningKeys } from './keys.js';
import { KeySourceUnavailableError, TokenInvalidError, type KeyResolver, type TokenHeader } from './token-verifier.js';
import { RefreshLimiter } from './refresh-limiter.js';
import { certificatesFromPem } from './x509.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Least time between two reads of a local key source (bundle file, key directory). */
const LOCAL_REFRESH_MS = 1000;

function unknownKey(message: string): TokenInvalidError {
  return new TokenInvalidError('TOKEN_KEY_UNKNOWN', message);
}

function validAt(cert: X509Certificate, nowMs: number): boolean {
  return Date.parse(cert.validFrom) <= nowMs && nowMs <= Date.parse(cert.validTo);
}

interface BundleState {
  certificates: X509Certificate[];
  byKid: Map<string, KeyObject>;
  stamp: string;
}

/** Trusted keys from a PEM certificate bundle file; see the module comment. */
export class CertificateBundleResolver implements KeyResolver {
  private state: BundleState;
  private checkedAt = Date.now();

  private constructor(
    private readonly path: string,
    private readonly recheckMs: number,
    private readonly limiter: RefreshLimiter,
    state: BundleState,
  ) {
    this.state = state;
  }

  /**
   * Loads the bundle; fails (at startup) when the file is missing or holds no certificate.
   * `recheckSeconds`: how old the copy may grow; `refreshIntervalMs`: least time between two
   * reads of the file, whatever tokens arrive.
   */
  static async load(path: string, options: { recheckSeconds?: number; refreshIntervalMs?: number } = {}): Promise<CertificateBundleResolver> {
    let state: BundleState;
    try {
      state = await readBundle(path);
    } catch (err) {
      throw new Error(`cannot use token certificate bundle ${path}: ${(err as Error).message}`);
    }
    const recheckMs = (options.recheckSeconds ?? 30) * 1000;
    return new CertificateBundleResolver(path, recheckMs, new RefreshLimiter(Math.min(recheckMs, options.refreshIntervalMs ?? LOCAL_REFRESH_MS)), state);
  }

  /** Resolves the key for a header: x5c chained to the bundle, else kid lookup. */
  async resolve(header: TokenHeader): Promise<KeyObject> {
    if (Date.now() - this.checkedAt > this.recheckMs) await this.limiter.run(() => this.reloadIfChanged());
    try {
      return this.find(header);
    } catch (err) {
      // Maybe the issuer rotated and the bundle was updated since we read it.
      if (err instanceof TokenInvalidError && (await this.limiter.run(() => this.reloadIfChanged()))) return this.find(header);
      throw err;
    }
  }

  /** Re-reads the file when it changed; a broken new file keeps the previous trust. Returns true on reload. */
  async reloadIfChanged(): Promise<boolean> {
    this.checkedAt = Date.now();
    const current = await fileStamp(this.path).catch(() => null);
    if (current === null || current === this.state.stamp) return false;
    try {
      this.state = await readBundle(this.path);
      return true;
    } catch {
      return false;
    }
  }

  private find(header: TokenHeader): KeyObject {
    if (header.x5c !== undefined) return this.fromChain(header.x5c);
    if (typeof header.kid === 'string') {
      const key = this.state.byKid.get(header.kid);
      if (!key) throw unknownKey('token kid is not a trusted key');
      return key;
    }
    throw unknownKey('token header names no key (kid or x5c)');
  }

  private fromChain(x5c: unknown): KeyObject {
    if (!Array.isArray(x5c) || x5c.length === 0 || typeof x5c[0] !== 'string' || !BASE64.test(x5c[0])) {
      throw new TokenInvalidError('TOKEN_MALFORMED', 'token x5c header is not an array of base64 certificates');
    }
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(Buffer.from(x5c[0], 'base64'));
    } catch {
      throw new TokenInvalidError('TOKEN_MALFORMED', 'token x5c certificate does not parse');
    }
    const now = Date.now();
    const trusted = this.state.certificates.some(
      (root) =>
        validAt(root, now) &&
        (root.raw.equals(leaf.raw) || (root.ca && leaf.checkIssued(root) && leaf.verify(root.publicKey))),
    );
    if (!trusted || !validAt(leaf, now)) throw unknownKey('token x5c certificate does not chain to a trusted certificate');
    return leaf.publicKey;
  }
}

async function fileStamp(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

async function readBundle(path: string): Promise<BundleState> {
  const stamp = await fileStamp(path);
  const pem = await readFile(path, 'utf8');
  const certificates = certificatesFromPem(pem).map((derBytes, i) => {
    try {
      return new X509Certificate(derBytes);
    } catch {
      throw new Error(`certificate ${i + 1} in ${path} does not parse`);
    }
  });
  if (certificates.length === 0) throw new Error(`certificate bundle ${path} holds no certificate`);
  const byKid = new Map<string, KeyObject>();
  for (const cert of certificates) {
    // Issuers name keys by the libtrust fingerprint (distribution 2.x) or the RFC 7638 thumbprint (3.x).
    byKid.set(libtrustKeyId(cert.publicKey), cert.publicKey);
    byKid.set(await calculateJwkThumbprint(cert.publicKey), cert.publicKey);
  }
  return { certificates, byKid, stamp };
}

/** Loads a certificate bundle resolver (see CertificateBundleResolver). */
export function certificateBundleResolver(path: string, options: { recheckSeconds?: number; refreshIntervalMs?: number } = {}): Promise<CertificateBundleResolver> {
  return CertificateBundleResolver.load(path, options);
}

/**
 * Trusted keys from a JWKS URL. The key is looked up by kid (alg and kty must fit); an
 * x5c header is not consulted because the key set itself is the trust. The set is fetched
 * on first use, once it is `cacheMaxAgeSeconds` old, and on an unknown kid, but never
 * twice within `cooldownSeconds`. A failed fetch keeps the previous set.
 */
export function jwksResolver(
  url: string | URL,
  options: { cooldownSeconds?: number; cacheMaxAgeSeconds?: number; timeoutMs?: number } = {},
): KeyResolver {
  const source = new URL(url);
  const cacheMaxAgeMs = (options.cacheMaxAgeSeconds ?? 600) * 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const limiter = new RefreshLimiter((options.cooldownSeconds ?? 10) * 1000);
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = 0;
  let lastFailure: unknown;

  const fetchKeys = async (): Promise<boolean> => {
    try {
      const response = await fetch(source, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      keySet = createLocalJWKSet((await response.json()) as JSONWebKeySet);
      fetchedAt = Date.now();
      return true;
    } catch (err) {
      lastFailure = err;
      return false;
    }
  };
  const lookup = async (selector: TokenHeader): Promise<webcrypto.CryptoKey> => {
    try {
      return (await keySet!(selector)) as webcrypto.CryptoKey;
    } catch (err) {
      if (err instanceof jose.JWKSMultipleMatchingKeys) throw unknownKey('token names no kid and the key set has several keys');
      if (err instanceof jose.JOSENotSupported) throw unknownKey('token algorithm does not fit the trusted key');
      throw unknownKey('token kid is not in the trusted key set');
    }
  };

  return {
    async resolve(header: TokenHeader): Promise<webcrypto.CryptoKey> {
      // Only what selects a key from the set goes to jose: never the token's own jwk or x5c.
      const selector: TokenHeader = { alg: header.alg };
      if (typeof header.kid === 'string') selector.kid = header.kid;
      // >=: with a maximum age of 0 every lookup fetches, even within the millisecond of the last fetch.
      if (keySet === undefined || Date.now() - fetchedAt >= cacheMaxAgeMs) await limiter.run(fetchKeys);
      if (keySet === undefined) throw new KeySourceUnavailableError(`cannot fetch the token key set from ${source.href}`, { cause: lastFailure });
      try {
        return await lookup(selector);
      } catch (err) {
        // Maybe the issuer rotated since the last fetch.
        if (await limiter.run(fetchKeys)) return lookup(selector);
        throw err;
      }
    },
  };
}

/**
 * Trusted keys straight from the auth service's key directory, for a registry running in
 * the same process (`npm start`): no HTTP round trip and no TLS trust to set up. A token
 * naming an unknown kid makes the store check the directory for a rotation (once per
 * `refreshIntervalMs` at most).
 */
export function keyStoreResolver(keys: SigningKeys, options: { refreshIntervalMs?: number } = {}): KeyResolver {
  const limiter = new RefreshLimiter(options.refreshIntervalMs ?? LOCAL_REFRESH_MS);
  const find = (kid: string): KeyObject | undefined => {
    const jwk = keys.jwks().keys.find((k) => k.kid === kid);
    return jwk ? createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e }, format: 'jwk' }) : undefined;
  };
  return {
    async resolve(header: TokenHeader): Promise<KeyObject> {
      if (typeof header.kid !== 'string') throw unknownKey('token names no kid');
      const key = find(header.kid) ?? ((await limiter.run(() => keys.refresh())) ? find(header.kid) : undefined);
      if (!key) throw unknownKey('token kid is not in the trusted key set');
      return key;
    },
  };
}

/**
 * Tries resolvers in order; the first that knows the key wins. When none does and one of
 * them could not reach its keys, that is reported: the token may well be fine.
 */
export function combinedResolver(resolvers: KeyResolver[]): KeyResolver {
  if (resolvers.length === 0) throw new TypeError('combinedResolver needs at least one resolver');
  return {
    async resolve(header: TokenHeader): Promise<KeyObject | webcrypto.CryptoKey> {
      const failures: unknown[] = [];
      for (const resolver of resolvers) {
        try {
          return await resolver.resolve(header);
        } catch (err) {
          failures.push(err);
        }
      }
      throw failures.find((err) => err instanceof KeySourceUnavailableError) ?? failures[0];
    },
  };
}
