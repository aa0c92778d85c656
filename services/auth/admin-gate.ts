/**
 * Who may use the admin API: an enabled admin user, proven by Basic credentials (throttled
 * like any login) or by an admin API token: a bearer token this service issued for the
 * audience ADMIN_API_AUDIENCE (verified against our own published keys, then the user is
 * re-read so a demoted or disabled admin is refused at once). Registry tokens (audience =
 * the registry service) are refused: they travel through proxies, client logs and other
 * registries trusting this realm, so holding one must never be an admin credential.
 * Robots are never admins.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Context } from 'koa';
import { DockyardError } from '../../shared/http/errors.js';
import type { SigningKeys } from '../../shared/crypto/keys.js';
import { TokenInvalidError, TokenVerifier, type KeyResolver, type TokenHeader } from '../../shared/crypto/token-verifier.js';
import type { Authenticator } from './authenticate.js';
import type { Principal } from './authorize.js';
import { authorizationHeader, clientAddress } from './http.js';
import type { Actor } from './operations/index.js';

/** Resolves our own signing keys (current and still-published ones) by kid. */
function ownKeyResolver(keys: SigningKeys): KeyResolver {
  return {
    async resolve(header: TokenHeader): Promise<KeyObject> {
      await keys.refresh();
      const jwk = keys.jwks().keys.find((k) => k.kid === header.kid);
      if (!jwk) throw new TokenInvalidError('TOKEN_KEY_UNKNOWN', 'token was not signed by this service');
      return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
    },
  };
}

/**
 * The `aud` (and `service` at POST /token) of admin API tokens. Only a password or
 * refresh-token login that names it gets one, so no registry token can ever carry it.
 */
export const ADMIN_API_AUDIENCE = 'dockyard-admin-api';

const REALM = 'Basic realm="Dockyard admin"';

function unauthorized(message: string): DockyardError {
  return new DockyardError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': REALM } });
}

/** Authenticates admin API requests. */
export class AdminGate {
  private readonly verifier: TokenVerifier;

  constructor(
    private readonly authenticator: Authenticator,
    keys: SigningKeys,
    token: { issuer: string },
  ) {
    this.verifier = new TokenVerifier({ issuer: token.issuer, audience: ADMIN_API_AUDIENCE, keys: ownKeyResolver(keys), algorithms: ['ES256'] });
  }

  /** The acting admin; UNAUTHORIZED without valid credentials, DENIED for a non-admin. */
  async requireAdmin(ctx: Context): Promise<Actor> {
    const principal = await this.principal(ctx);
    if (principal.kind !== 'user' || !principal.admin) throw new DockyardError('DENIED', 'the admin API is for administrators only');
    return { name: principal.name, address: clientAddress(ctx) };
  }

  /** The calling user or robot, for self-service operations; UNAUTHORIZED without valid credentials. */
  async requireAccount(ctx: Context): Promise<{ actor: Actor; caller: string }> {
    const principal = await this.principal(ctx);
    if (principal.kind !== 'user' && principal.kind !== 'robot') throw unauthorized('authentication required');
    return { actor: { name: principal.name, address: clientAddress(ctx) }, caller: `${principal.kind}:${principal.name}` };
  }

  private async principal(ctx: Context): Promise<Principal> {
    const auth = authorizationHeader(ctx);
    if (auth === null) throw unauthorized('authentication required: Basic credentials or an admin API token of an admin');
    if (auth.scheme === 'basic') {
      const result = await this.authenticator.login(auth.credentials.username, auth.credentials.password, clientAddress(ctx));
      if (!result.ok) throw unauthorized('invalid username or password');
      // A personal access token is a registry credential; it cannot manage accounts or mint more tokens.
      if (result.principal.accessToken !== undefined) throw unauthorized('personal access tokens are for the registry only: use your password or an admin API token');
      return result.principal;
    }
    if (auth.scheme === 'bearer') {
      let subject: string;
      try {
        subject = (await this.verifier.verify(auth.token)).sub;
      } catch (err) {
        if (err instanceof TokenInvalidError && err.code === 'TOKEN_AUDIENCE') {
          throw unauthorized(`not an admin API token: registry tokens are refused here; get one with POST /token grant_type=password service=${ADMIN_API_AUDIENCE}`);
        }
        if (err instanceof TokenInvalidError) throw unauthorized(`invalid bearer token: ${err.message}`);
        throw err;
      }
      const principal = subject === '' ? null : await this.authenticator.principalFor('user', subject);
      if (!principal) throw unauthorized('the token subject is not an enabled user');
      return principal;
    }
    throw unauthorized('unsupported Authorization header: use Basic or Bearer');
  }
}
