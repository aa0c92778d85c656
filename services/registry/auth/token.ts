/**
 * Bearer-token access control (Docker token spec): a request carries a JWT from the
 * token server; without one, or with one that is bad or too narrow, the client gets a
 * 401 challenge naming the realm, service and scopes it should ask the token server for.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DockyardError } from '../../../shared/http/errors.js';
import { accessCovers, formatScope, mergeAccess, type AccessRecord } from '../../../shared/grammar/scope.js';
import { KeySourceUnavailableError, TokenInvalidError, type TokenVerifier, type VerifiedToken } from '../../../shared/crypto/token-verifier.js';
import { ChallengeError, type AccessController, type Grant } from './controller.js';

/** One auth-param of a challenge, as an RFC 9110 quoted-string. */
export function authParam(name: string, value: string): string {
  return `${name}="${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Throws when a configured challenge value could not be sent in a header (CR/LF, controls). */
export function assertHeaderSafe(name: string, value: string): void {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new TypeError(`${name} must not contain control characters`);
}

// Any credentials after "Bearer" count as a token, so a mangled one gets invalid_token.
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Challenge parameters and the verifier of a TokenAccessController. */
export interface TokenAccessControllerOptions {
  /** The token endpoint URL clients are sent to. */
  realm: string;
  /** Our service name (the token audience). */
  service: string;
  verifier: TokenVerifier;
}

/** Grants what a valid Bearer token's `access` claim covers. */
export class TokenAccessController implements AccessController {
  private readonly realm: string;
  private readonly service: string;
  private readonly verifier: TokenVerifier;

  constructor(options: TokenAccessControllerOptions) {
    assertHeaderSafe('token realm', options.realm);
    assertHeaderSafe('token service', options.service);
    this.realm = options.realm;
    this.service = options.service;
    this.verifier = options.verifier;
  }

  /** Resolves with the grant, or throws a 401 ChallengeError (503 when trusted keys cannot be fetched). */
  async authorize(headers: IncomingHttpHeaders, required: AccessRecord[]): Promise<Grant> {
    const wanted = mergeAccess(required);
    const match = BEARER.exec(headers.authorization ?? '');
    if (!match) throw this.challenge(wanted, undefined, 'authentication required');

    let claims: VerifiedToken;
    try {
      claims = await this.verifier.verify(match[1]!);
    } catch (err) {
      if (err instanceof TokenInvalidError) throw this.challenge(wanted, 'invalid_token', `invalid token: ${err.message}`);
      if (err instanceof KeySourceUnavailableError) {
        throw new DockyardError('UNAVAILABLE', 'token keys are temporarily unavailable', { headers: { 'Retry-After': '5' } });
      }
      throw err;
    }
    if (!accessCovers(claims.access, wanted)) {
      throw this.challenge(wanted, 'insufficient_scope', 'insufficient scope: the token does not grant the required access');
    }
    return claims.catalog === undefined ? { subject: claims.sub, access: wanted } : { subject: claims.sub, access: wanted, catalog: claims.catalog };
  }

  private challenge(required: AccessRecord[], error: 'invalid_token' | 'insufficient_scope' | undefined, message: string): ChallengeError {
    const params = [authParam('realm', this.realm), authParam('service', this.service)];
    if (required.length > 0) params.push(authParam('scope', required.map(formatScope).join(' ')));
    if (error) params.push(authParam('error', error));
    // Like distribution, the detail lists what was required, never what the token held.
    const detail = required.map((r) => ({ type: r.type, name: r.name, actions: r.actions }));
    return new ChallengeError(`Bearer ${params.join(',')}`, message, { detail: detail.length > 0 ? detail : undefined });
  }
}
