/**
 * Builds the registry's AccessController from configuration: token (JWT from a
 * Docker-token-spec server), htpasswd (Basic) or none. Bad configuration (missing
 * certificate bundle, non-bcrypt htpasswd entry) fails here, at startup.
 */
import type { RegistryAuthConfig } from '../../../shared/config/index.js';
import type { Logger } from '../../../shared/observability/logger.js';
import { certificateBundleResolver, combinedResolver, jwksResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier, type KeyResolver } from '../../../shared/crypto/token-verifier.js';
import type { AccessController } from './controller.js';
import { HtpasswdAccessController } from './htpasswd.js';
import { NoneAccessController } from './none.js';
import { TokenAccessController } from './token.js';

/**
 * The access controller the configuration asks for. `keys` adds a trusted key source that
 * configuration cannot name (the in-process auth service's key store under `npm start`).
 */
export async function createAccessController(
  auth: RegistryAuthConfig,
  logger: Logger,
  options: { keys?: KeyResolver } = {},
): Promise<AccessController> {
  switch (auth.kind) {
    case 'none':
      logger.warn('registry authentication is disabled (auth: none): every client may push and delete');
      return new NoneAccessController();
    case 'htpasswd':
      return HtpasswdAccessController.open(auth.path, auth.realm, logger);
    case 'token': {
      const resolvers: KeyResolver[] = options.keys ? [options.keys] : [];
      // The bundle comes first: it answers from memory, the JWKS may need a fetch.
      if (auth.rootCertBundle) resolvers.push(await certificateBundleResolver(auth.rootCertBundle));
      if (auth.jwksUrl) resolvers.push(jwksResolver(auth.jwksUrl));
      if (resolvers.length === 0) throw new Error('token auth needs a rootcertbundle, a JWKS URL or a key store');
      const verifier = new TokenVerifier({
        issuer: auth.issuer,
        audience: auth.service,
        keys: resolvers.length === 1 ? resolvers[0]! : combinedResolver(resolvers),
      });
      return new TokenAccessController({ realm: auth.realm, service: auth.service, verifier });
    }
  }
}
