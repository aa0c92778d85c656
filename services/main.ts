/**
 * `npm start`: the registry, the auth service and the web UI (services/web) in one process with embedded defaults (SQLite + filesystem
 * under DOCKYARD_DATA_DIR, keys and a first admin created on first start). Unless the
 * configuration says otherwise, the registry checks tokens from this auth service: realm
 * = the auth service's /token, same service and issuer, and trust taken straight from the
 * auth service's key directory (so a key rotation needs no restart and no TLS trust setup).
 * With DOCKYARD_WORKERS > 1 every worker runs both services (shared/process/cluster.ts).
 */
import { runService } from '../shared/process/cluster.js';
import {
  ConfigError,
  configFileFrom,
  loadAuthConfig,
  loadRegistryConfig,
  openRegistryWarning,
  readConfigFile,
  SETTINGS,
  type AuthServiceConfig,
  type Env,
  type ListenConfig,
  type RegistryConfig,
} from '../shared/config/index.js';
import { ConfigSource } from '../shared/config/source.js';
import { createLogger, type Logger } from '../shared/observability/logger.js';
import { keyStoreResolver } from '../shared/crypto/token-keys.js';
import { preflightAuth } from '../shared/config/preflight.js';
import { loosePermissionWarnings } from '../shared/process/private-files.js';
import { authPrivatePaths, prepareAuthService, startAuthService } from './auth/main.js';
import { preflightRegistryService, prepareRegistryService, registryPrivatePaths, startRegistryService } from './registry/main.js';
import { loadWebConfig } from '../shared/config/web.js';
import { startWebService, webPrivatePaths, type RunningWebService } from './web/main.js';

/** The URL a client on this machine reaches the auth service at (a wildcard bind means loopback). */
function reachableUrl(listeningUrl: string): string {
  const url = new URL(listeningUrl);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
  return url.origin;
}

/**
 * The environment the registry's configuration is read from: the real one, plus the
 * token wiring to this auth service for every setting neither the YAML file nor the
 * environment gives. An explicit REGISTRY_AUTH (none, htpasswd, token) always wins, and
 * so do htpasswd settings (they select htpasswd, as they do for `npm run registry`).
 */
export function wiredRegistryEnv(file: string | undefined, env: Env, auth: AuthServiceConfig, authUrl: string): Env {
  const source = new ConfigSource(file === undefined ? undefined : readConfigFile(file), env);
  const s = SETTINGS.registry;
  if (source.isSet(s.auth) || source.isSet(s.htpasswdPath) || source.isSet(s.htpasswdRealm)) return env;
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

/**
 * The registry configuration without the JWKS URL that wiredRegistryEnv filled in: that
 * URL only satisfies the rule that token auth names a key source. The registry trusts the
 * in-process key directory directly; fetching our own JWKS as well would add nothing but a
 * second source that can fail (over TLS it is not even trusted), turning forged tokens
 * into 503s. A JWKS URL the operator set stays.
 */
function withoutWiredJwks(config: RegistryConfig, wiredEnv: Env, env: Env): RegistryConfig {
  const name = SETTINGS.registry.tokenJwks.env;
  if (config.auth.kind !== 'token' || wiredEnv[name] === env[name]) return config;
  return { ...config, auth: { ...config.auth, jwksUrl: undefined } };
}

/** The URL the auth service will answer at, from its configuration (before it listens). */
function configuredUrl(http: ListenConfig): string {
  const host = http.host.includes(':') ? `[${http.host}]` : http.host;
  return `${http.tls ? 'https' : 'http'}://${host}:${http.port}`;
}

/**
 * Cluster workers share one listening socket per address: two services asking for port 0
 * on the same host would be handed the same socket.
 */
function checkClusterPorts(registry: RegistryConfig, auth: AuthServiceConfig): void {
  if ((auth.workers ?? 1) === 1 || registry.http.port !== 0 || auth.http.port !== 0 || registry.http.host !== auth.http.host) return;
  throw new ConfigError(
    SETTINGS.registry.addr.env,
    'a port',
    undefined,
    `the registry and the auth service cannot both listen on port 0 of ${registry.http.host} with ${SETTINGS.common.workers.env} > 1 (workers share one socket per address); give one of them a port`,
  );
}

interface Configured {
  file: string | undefined;
  env: Env;
  auth: AuthServiceConfig;
}

let loaded: Configured | undefined;
function configured(): Configured {
  if (!loaded) {
    const env = process.env;
    const file = configFileFrom(process.argv.slice(2), env);
    loaded = { file, env, auth: loadAuthConfig({ file, env }) };
  }
  return loaded;
}

const loggerFor = (auth: AuthServiceConfig): Logger => createLogger({ name: 'dockyard', level: auth.log?.level });

/** Everything both starts need, checked before either service listens. */
async function preflight(logger: Logger): Promise<void> {
  const { file, env, auth } = configured();
  const registryConfig = loadRegistryConfig({ file, env: wiredRegistryEnv(file, env, auth, configuredUrl(auth.http)) });
  checkClusterPorts(registryConfig, auth);
  await preflightAuth(auth);
  await preflightRegistryService(registryConfig, logger.child({ service: 'registry' }));
}

runService('dockyard', import.meta.url, {
  workers: () => configured().auth.workers ?? 1,
  // Both services' directories: the same data directory the registry configuration reads.
  directories: () => [
    { service: 'auth', dataDir: configured().auth.dataDir },
    { service: 'registry', dataDir: configured().auth.dataDir },
  ],
  async prepare() {
    const { file, env, auth } = configured();
    const registryConfig = loadRegistryConfig({ file, env: wiredRegistryEnv(file, env, auth, configuredUrl(auth.http)) });
    checkClusterPorts(registryConfig, auth);
    const logger = loggerFor(auth);
    await preflight(logger);
    await prepareAuthService(auth, { logger: logger.child({ service: 'auth' }) });
    await prepareRegistryService(registryConfig);
    return logger;
  },
  async start({ prepared, housekeeping }) {
    const { file, env, auth: authConfig } = configured();
    const logger = loggerFor(authConfig);
    if (!prepared) await preflight(logger);
    const auth = await startAuthService(authConfig, { logger: logger.child({ service: 'auth' }), prepared, housekeeping });
    try {
      const wiredEnv = wiredRegistryEnv(file, env, authConfig, auth.url);
      const registryConfig = withoutWiredJwks(loadRegistryConfig({ file, env: wiredEnv }), wiredEnv, env);
      const keys = registryConfig.auth.kind === 'token' ? keyStoreResolver(auth.keys) : undefined;
      const registry = await startRegistryService(registryConfig, { logger: logger.child({ service: 'registry' }), keys, prepared, housekeeping });
      const open = openRegistryWarning(registryConfig);
      // The web UI talks to the registry started here unless WEB_REGISTRY_URL says otherwise.
      // Of a cluster only the first worker (the one doing housekeeping, restarted in the same
      // slot) serves it: node:cluster then hands every UI connection to that worker.
      const webConfig = loadWebConfig({ file, env }, reachableUrl(registry.url));
      const privatePaths = new Set([...authPrivatePaths(authConfig), ...registryPrivatePaths(registryConfig), ...webPrivatePaths(webConfig)]);
      let web: RunningWebService | undefined;
      try {
        if (housekeeping) web = await startWebService(webConfig, { logger: logger.child({ service: 'web' }) });
      } catch (err) {
        await registry.close();
        throw err;
      }
      return {
        logger,
        warnings: [...(open ? [open] : []), ...loosePermissionWarnings([...privatePaths])],
        banner: `Dockyard is running: registry ${registry.url} (auth: ${registryConfig.auth.kind}), auth service ${auth.url}${web ? `, web UI ${web.url}` : ''}`,
        async close() {
          await web?.close();
          await registry.close();
          await auth.close();
        },
      };
    } catch (err) {
      await auth.close();
      throw err;
    }
  },
});
