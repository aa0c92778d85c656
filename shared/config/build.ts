/**
 * Turns a ConfigSource into the validated configuration of each service. Cross-field
 * rules (TLS needs both files, token auth needs a key source) live here.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig } from '../db/index.js';
import { SETTINGS, type Setting } from './settings.js';
import type { ConfigSource } from './source.js';
import {
  ConfigError,
  LOG_LEVELS,
  type AuthServiceConfig,
  type ListenConfig,
  type LoginThrottleConfig,
  type LogLevel,
  type RegistryAuthConfig,
  type RegistryConfig,
} from './types.js';

function tlsFrom(src: ConfigSource, certSetting: Setting, keySetting: Setting): ListenConfig['tls'] {
  const certificate = src.path(certSetting);
  const key = src.path(keySetting);
  if (certificate === undefined && key === undefined) return undefined;
  if (certificate === undefined) {
    throw new ConfigError(src.name(certSetting), 'a certificate file', undefined, 'missing: required when the TLS key is set');
  }
  if (key === undefined) {
    throw new ConfigError(src.name(keySetting), 'a key file', undefined, 'missing: required when the TLS certificate is set');
  }
  return { certificate, key };
}

function dataDirOf(src: ConfigSource): string {
  return src.path(SETTINGS.common.dataDir)!;
}

function logOf(src: ConfigSource): { level: LogLevel } {
  return { level: src.oneOf(SETTINGS.common.logLevel, LOG_LEVELS) };
}

/** Most workers a number may ask for: far beyond any core count this runs on, so a typo fails. */
const MAX_WORKERS = 64;

function workersOf(src: ConfigSource): number {
  const workers = src.intOrWord(SETTINGS.common.workers, 'auto', 1, MAX_WORKERS);
  return workers === 'auto' ? availableParallelism() : workers;
}

/**
 * Workers share nothing in memory, so state that lives only in one process's memory (the
 * memory storage driver, an in-memory SQLite database) would split into one copy per worker.
 */
function checkShareable(src: ConfigSource, workers: number, database: DatabaseConfig, databaseSetting: Setting): void {
  if (workers === 1) return;
  if (database.client === 'sqlite' && database.filename === ':memory:') {
    throw new ConfigError(src.name(databaseSetting), 'a database file or server', 'sqlite::memory:', `an in-memory database cannot be shared by ${workers} workers (DOCKYARD_WORKERS); use a file or DOCKYARD_WORKERS=1`);
  }
}

function registryAuthOf(src: ConfigSource): RegistryAuthConfig {
  const s = SETTINGS.registry;
  const kind = src.choice(s.auth);
  if (kind === 'none') return { kind };
  if (kind === 'htpasswd') {
    src.requiredString(s.htpasswdPath, 'for htpasswd auth');
    return { kind, path: src.path(s.htpasswdPath)!, realm: src.string(s.htpasswdRealm)! };
  }
  src.requiredString(s.tokenRealm, 'for token auth');
  const rootCertBundle = src.path(s.tokenRootCertBundle);
  const jwksUrl = src.url(s.tokenJwks);
  if (rootCertBundle === undefined && jwksUrl === undefined) {
    throw new ConfigError(
      src.name(s.tokenRootCertBundle),
      'a certificate bundle or a JWKS URL',
      undefined,
      `missing: token auth needs it or ${src.name(s.tokenJwks)} to verify token signatures`,
    );
  }
  return {
    kind,
    realm: src.url(s.tokenRealm)!,
    service: src.string(s.tokenService)!,
    issuer: src.string(s.tokenIssuer)!,
    rootCertBundle,
    jwksUrl,
  };
}

/** The registry's configuration; throws ConfigError naming the first bad key. */
export function buildRegistryConfig(src: ConfigSource): RegistryConfig {
  const s = SETTINGS.registry;
  const dataDir = dataDirOf(src);
  const driver = src.choice(s.storage);
  const workers = workersOf(src);
  const database = src.database(s.databaseUrl, join(dataDir, 'registry', 'registry.sqlite'));
  checkShareable(src, workers, database, s.databaseUrl);
  if (workers > 1 && driver === 'memory') {
    throw new ConfigError(src.name(s.storage), 'filesystem', driver, `memory storage cannot be shared by ${workers} workers (DOCKYARD_WORKERS); use filesystem or DOCKYARD_WORKERS=1`);
  }
  return {
    http: { ...src.addr(s.addr), tls: tlsFrom(src, s.tlsCertificate, s.tlsKey) },
    dataDir,
    storage:
      driver === 'memory'
        ? { driver }
        : { driver, rootDirectory: src.path(s.rootDirectory) ?? join(dataDir, 'registry', 'blobs') },
    database,
    auth: registryAuthOf(src),
    readOnly: src.bool(s.readOnly),
    uploads: { purgeAfterSeconds: src.int(s.purgeAfterSeconds, 60) },
    limits: {
      manifestMaxBytes: src.int(s.manifestMaxBytes, 1024),
      pageMaxEntries: src.int(s.pageMaxEntries, 1),
    },
    gc: {
      graceSeconds: src.int(s.gcGraceSeconds, 0),
      intervalSeconds: src.int(s.gcIntervalSeconds, 0),
      deleteUntagged: src.bool(s.gcDeleteUntagged),
    },
    log: logOf(src),
    workers,
  };
}

/** The login throttling limits alone (the auth service also reads them for hand-built configs). */
export function buildLoginThrottle(src: ConfigSource): LoginThrottleConfig {
  const s = SETTINGS.auth;
  return {
    maxFailures: src.int(s.loginMaxFailures, 1),
    addressMaxFailures: src.int(s.loginMaxFailuresPerAddress, 1),
    windowSeconds: src.int(s.loginWindowSeconds, 1),
  };
}

/** The auth service's configuration; throws ConfigError naming the first bad key. */
export function buildAuthConfig(src: ConfigSource): AuthServiceConfig {
  const s = SETTINGS.auth;
  const dataDir = dataDirOf(src);
  const workers = workersOf(src);
  const database = src.database(s.databaseUrl, join(dataDir, 'auth', 'auth.sqlite'));
  checkShareable(src, workers, database, s.databaseUrl);
  return {
    http: { ...src.addr(s.addr), tls: tlsFrom(src, s.tlsCertificate, s.tlsKey) },
    dataDir,
    database,
    token: {
      issuer: src.string(s.tokenIssuer)!,
      service: src.string(s.tokenService)!,
      ttlSeconds: src.int(s.tokenTtlSeconds, 30),
    },
    refreshTokens: { idleSeconds: src.int(s.refreshIdleSeconds, 60) },
    keysDir: src.path(s.keysDir) ?? join(dataDir, 'auth', 'keys'),
    bcryptCost: src.int(s.bcryptCost, 4, 31),
    log: logOf(src),
    admin: { user: src.string(s.adminUser)!, password: src.string(s.adminPassword) },
    login: buildLoginThrottle(src),
    workers,
  };
}
