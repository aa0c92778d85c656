/**
 * `npm start`: both services in one process with embedded defaults (SQLite + filesystem
 * under DOCKYARD_DATA_DIR, keys and a first admin created on first start). Unless the
 * configuration says otherwise, the registry checks tokens from this auth service: realm
 * = the auth service's /token, same service and issuer, and trust taken straight from the
 * auth service's key directory (so a key rotation needs no restart and no TLS trust setup).
 */
import { configFileFrom, loadAuthConfig, loadRegistryConfig, readConfigFile, SETTINGS, type AuthServiceConfig, type Env } from '../shared/config.js';
import { ConfigSource } from '../shared/config/source.js';
import { runEntryPoint } from '../shared/entry-point.js';
import { KeyStore } from '../shared/keys.js';
import { createLogger } from '../shared/logger.js';
import { keyStoreResolver } from '../shared/token-keys.js';
import { startAuthService } from './auth/main.js';
import { startRegistryService } from './registry/main.js';

/** The URL a client on this machine reaches the auth service at (a wildcard bind means loopback). */
function reachableUrl(listeningUrl: string): string {
  const url = new URL(listeningUrl);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
  return url.origin;
}

/**
 * The environment the registry's configuration is read from: the real one, plus the
 * token wiring to this auth service for every setting neither the YAML file nor the
 * environment gives. An explicit REGISTRY_AUTH (none, htpasswd, token) always wins.
 */
export function wiredRegistryEnv(file: string | undefined, env: Env, auth: AuthServiceConfig, authUrl: string): Env {
  const source = new ConfigSource(file === undefined ? undefined : readConfigFile(file), env);
  const s = SETTINGS.registry;
  if (source.isSet(s.auth)) return env;
  const base = reachableUrl(authUrl);
  const defaults: Array<[(typeof s)[keyof typeof s], string]> = [
    [s.auth, 'token'],
    [s.tokenRealm, `${base}/token`],
    [s.tokenService, auth.token.service],
    [s.tokenIssuer, auth.token.issuer],
    [s.tokenJwks, `${base}/.well-known/jwks.json`],
  ];
  const wired: Env = { ...env };
  for (const [setting, value] of defaults) if (!source.isSet(setting)) wired[setting.env] = value;
  return wired;
}

runEntryPoint('dockyard', import.meta.url, async () => {
  const env = process.env;
  const file = configFileFrom(process.argv.slice(2), env);
  const authConfig = loadAuthConfig({ file, env });
  const logger = createLogger({ name: 'dockyard', level: authConfig.log?.level });
  const auth = await startAuthService(authConfig, { logger: logger.child({ service: 'auth' }) });
  try {
    const registryConfig = loadRegistryConfig({ file, env: wiredRegistryEnv(file, env, authConfig, auth.url) });
    const keys = registryConfig.auth.kind === 'token' ? keyStoreResolver(await KeyStore.open(authConfig.keysDir)) : undefined;
    const registry = await startRegistryService(registryConfig, { logger: logger.child({ service: 'registry' }), keys });
    process.stdout.write(`Dockyard is running: registry ${registry.url} (auth: ${registryConfig.auth.kind}), auth service ${auth.url}\n`);
    return {
      logger,
      async close() {
        await registry.close();
        await auth.close();
      },
    };
  } catch (err) {
    await auth.close();
    throw err;
  }
});
