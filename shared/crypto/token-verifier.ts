/**
 * Verifies Docker-token-spec JWTs for the registry: pinned asymmetric algorithms, a key
 * that comes only from configured trust (certificate bundle or JWKS, never from the
 * token), iss, aud, exp/nbf with leeway. Verified tokens are cached until they expire,
 * so a client that reuses its token costs one map lookup per request. Key resolvers
 * (certificate bundle, JWKS) live in token-keys.ts.
 */
import { compactVerify, decodeProtectedHeader, errors as jose, type JWSHeaderParameters } from 'jose';
import { KeyObject, type webcrypto } from 'node:crypto';
import { CATALOG_CLAIM, CATALOG_PATTERNS_MAX, isRepositoryPattern } from '../grammar/repository-pattern.js';
import type { AccessRecord } from '../grammar/scope.js';

/** Stable reasons a token is refused; logs and tests match on these. */
export type TokenErrorCode =
  | 'TOKEN_MALFORMED'
  | 'TOKEN_ALGORITHM'
  | 'TOKEN_KEY_UNKNOWN'
  | 'TOKEN_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_ISSUER'
  | 'TOKEN_AUDIENCE'
  | 'TOKEN_CLAIMS';

/** A token that must not be accepted; `code` says why. */
export class TokenInvalidError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenInvalidError';
  }
}

/** The trusted keys could not be fetched (JWKS endpoint down): not the token's fault. */
export class KeySourceUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceUnavailableError';
  }
}

/** The protected header of a token, as the resolver sees it. */
export type TokenHeader = JWSHeaderParameters;

/** Finds the trusted public key that must have signed a token with this header. */
export interface KeyResolver {
  /** Throws TokenInvalidError('TOKEN_KEY_UNKNOWN') when no trusted key fits. */
  resolve(header: TokenHeader): Promise<KeyObject | webcrypto.CryptoKey>;
}

/** The claims a verified token grants. */
export interface VerifiedToken {
  /** Subject; '' for anonymous. */
  sub: string;
  access: AccessRecord[];
  /** The `dockyard_catalog` claim: patterns of the repositories the catalog lists for this holder. */
  catalog?: readonly string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
  iss: string;
  jti?: string;
}

/** Trust configuration of a TokenVerifier. */
export interface TokenVerifierOptions {
  issuer: string;
  /** Our service name: `aud` must equal it or, as an array, contain it. */
  audience: string;
  keys: KeyResolver;
  /** Allowed signature algorithms; asymmetric only. */
  algorithms?: string[];
  leewaySeconds?: number;
  /** Most verified tokens kept in the cache. */
  cacheSize?: number;
  /** Current time in milliseconds (tests move it). */
  now?: () => number;
}

/** Every asymmetric JWS algorithm; `none` and the HMAC family can never be allowed. */
export const ASYMMETRIC_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

/** Clock skew tolerated on exp and nbf, as CNCF distribution does. */
export const DEFAULT_LEEWAY_SECONDS = 60;

/** Tokens fit in an HTTP header; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 32 * 1024;

function invalid(code: TokenErrorCode, message: string): TokenInvalidError {
  return new TokenInvalidError(code, message);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function parseAccess(value: unknown): AccessRecord[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('TOKEN_CLAIMS', 'access claim is not an array');
  return value.map((entry: unknown) => {
    const e = entry as Partial<AccessRecord> | null;
    if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || typeof e.name !== 'string' || !isStringArray(e.actions)) {
      throw invalid('TOKEN_CLAIMS', 'access claim entry is malformed');
    }
    return { type: e.type, name: e.name, actions: [...e.actions] };
  });
}

function parseCatalog(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!isStringArray(value) || value.length > CATALOG_PATTERNS_MAX || !value.every(isRepositoryPattern)) {
    throw invalid('TOKEN_CLAIMS', `${CATALOG_CLAIM} claim is not a list of at most ${CATALOG_PATTERNS_MAX} repository patterns`);
  }
  return Object.freeze([...value]);
}

function mapJoseError(err: unknown): Error {
  if (err instanceof TokenInvalidError || err instanceof KeySourceUnavailableError) return err;
  if (err instanceof jose.JOSEAlgNotAllowed) return invalid('TOKEN_ALGORITHM', 'token algorithm is not allowed');
  if (err instanceof jose.JWSSignatureVerificationFailed) return invalid('TOKEN_SIGNATURE', 'token signature is invalid');
  return invalid('TOKEN_MALFORMED', 'token is not a valid compact JWS');
}

const CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const WEB_CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/**
 * Whether a trusted key can check a signature made with `alg`. A mismatch (RS256 against
 * an EC key, ES384 against P-256) is a forged or broken token, not a malformed one.
 */
function keyFitsAlgorithm(key: KeyObject | webcrypto.CryptoKey, alg: string): boolean {
  if (key instanceof KeyObject) {
    const type = key.asymmetricKeyType;
    if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[alg];
    if (alg.startsWith('RS')) return type === 'rsa';
    if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
    return alg === 'EdDSA' && (type === 'ed25519' || type === 'ed448');
  }
  const algorithm = key.algorithm as { name: string; namedCurve?: string };
  if (alg.startsWith('ES')) return algorithm.name === 'ECDSA' && algorithm.namedCurve === WEB_CURVES[alg];
  if (alg.startsWith('RS')) return algorithm.name === 'RSASSA-PKCS1-v1_5';
  if (alg.startsWith('PS')) return algorithm.name === 'RSA-PSS';
  return alg === 'EdDSA' && (algorithm.name === 'Ed25519' || algorithm.name === 'EdDSA');
}

/** Verifies tokens against configured trust; see the module comment. */
export class TokenVerifier {
  private readonly issuer: string;
  private readonly audience: string;
  private readonly keys: KeyResolver;
  private readonly algorithms: string[];
  private readonly leeway: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  /** Insertion-ordered map used as an LRU: a hit is moved to the end. */
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(options: TokenVerifierOptions) {
    if (!options.issuer) throw new TypeError('issuer must not be empty');
    if (!options.audience) throw new TypeError('audience must not be empty');
    const algorithms = options.algorithms ?? [...ASYMMETRIC_ALGORITHMS];
    const unsafe = algorithms.filter((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a));
    if (unsafe.length > 0 || algorithms.length === 0) {
      throw new TypeError(`token algorithms must be a non-empty subset of ${ASYMMETRIC_ALGORITHMS.join(', ')}; got ${unsafe.join(', ')}`);
    }
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.keys = options.keys;
    this.algorithms = [...algorithms];
    this.leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
    this.cacheSize = options.cacheSize ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Returns the claims of a valid token; throws TokenInvalidError (or KeySourceUnavailableError). */
  async verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw invalid('TOKEN_MALFORMED', 'token is empty or too long');
    }
    const nowSeconds = this.now() / 1000;
    const cached = this.cache.get(token);
    if (cached) {
      this.cache.delete(token);
      // Never beyond exp: past it the token is verified again, which applies the leeway once more.
      if (nowSeconds < cached.exp) {
        this.cache.set(token, cached);
        return cached;
      }
    }
    let header: TokenHeader;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalid('TOKEN_MALFORMED', 'token header is not valid base64url JSON');
    }
    // Checked before any key lookup: `none` and HS* never reach a verifier.
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw invalid('TOKEN_ALGORITHM', `token algorithm ${String(header.alg)} is not allowed`);
    }

    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, (h) => this.trustedKey(h), { algorithms: this.algorithms }));
    } catch (err) {
      throw mapJoseError(err);
    }
    const claims = this.checkClaims(payload, nowSeconds);
    this.remember(token, claims);
    return claims;
  }

  private async trustedKey(header: TokenHeader): Promise<KeyObject | webcrypto.CryptoKey> {
    const key = await this.keys.resolve(header);
    if (!keyFitsAlgorithm(key, String(header.alg))) throw invalid('TOKEN_SIGNATURE', 'token algorithm does not fit the trusted key');
    return key;
  }

  private checkClaims(payload: Uint8Array, nowSeconds: number): VerifiedToken {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch {
      throw invalid('TOKEN_MALFORMED', 'token payload is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('TOKEN_MALFORMED', 'token payload is not a JSON object');
    const c = parsed as Record<string, unknown>;

    if (c.iss !== this.issuer) throw invalid('TOKEN_ISSUER', 'token issuer is not trusted');
    const audienceOk = typeof c.aud === 'string' ? c.aud === this.audience : isStringArray(c.aud) && c.aud.includes(this.audience);
    if (!audienceOk) throw invalid('TOKEN_AUDIENCE', 'token is not for this service');
    if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) throw invalid('TOKEN_CLAIMS', 'token has no numeric exp claim');
    if (c.nbf !== undefined && (typeof c.nbf !== 'number' || !Number.isFinite(c.nbf))) throw invalid('TOKEN_CLAIMS', 'token nbf claim is not numeric');
    if (c.iat !== undefined && (typeof c.iat !== 'number' || !Number.isFinite(c.iat))) throw invalid('TOKEN_CLAIMS', 'token iat claim is not numeric');
    if (nowSeconds - this.leeway >= c.exp) throw invalid('TOKEN_EXPIRED', 'token has expired');
    if (typeof c.nbf === 'number' && c.nbf > nowSeconds + this.leeway) throw invalid('TOKEN_NOT_YET_VALID', 'token is not valid yet');
    if (c.sub !== undefined && typeof c.sub !== 'string') throw invalid('TOKEN_CLAIMS', 'token sub claim is not a string');
    if (c.jti !== undefined && typeof c.jti !== 'string') throw invalid('TOKEN_CLAIMS', 'token jti claim is not a string');

    // Frozen because the cache hands the same object to every request carrying this token.
    const access = parseAccess(c.access).map((r) => Object.freeze({ ...r, actions: Object.freeze(r.actions) as string[] }));
    const claims: VerifiedToken = { sub: typeof c.sub === 'string' ? c.sub : '', access: Object.freeze(access) as AccessRecord[], exp: c.exp, iss: this.issuer };
    if (typeof c.jti === 'string') claims.jti = c.jti;
    const catalog = parseCatalog(c[CATALOG_CLAIM]);
    if (catalog) claims.catalog = catalog;
    return Object.freeze(claims);
  }

  private remember(token: string, claims: VerifiedToken): void {
    if (this.cacheSize <= 0) return;
    this.cache.set(token, claims);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
