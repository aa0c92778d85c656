/**
 * Turns a ConfigSource into the validated configuration of each service. Cross-field
 * rules (TLS needs both files, token auth needs a key source) live here.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig } from '../db/index.js';
import { ClientAddressResolver, PROXY_HEADERS } from '../http/client-address.js';
import { azureStorageOf } from './azure-storage.js';
import { buildAccessTokenConfig, buildOidcConfig } from './oidc.js';
import { buildLdapConfig } from './ldap.js';
import { notificationEndpointsOf } from './notifications.js';
import { buildKeyStore } from './key-store.js';
import { SETTINGS, type Setting } from './settings.js';
import type { ConfigSource } from './source.js';
import { swiftStorageOf } from './swift.js';
import {
  ConfigError,
  LOG_LEVELS,
  type AuthServiceConfig,
  type ListenConfig,
  type LoginThrottleConfig,
  type LogLevel,
  type RegistryAuthConfig,
  type RegistryConfig,
  type S3StorageConfig,
} from './types.js';

export function tlsFrom(src: ConfigSource, certSetting: Setting, keySetting: Setting): ListenConfig['tls'] {
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

/** Where to listen, TLS, and the trusted reverse proxies (each entry checked here, so a typo stops the start). */
function listenOf(src: ConfigSource, s: { addr: Setting; tlsCertificate: Setting; tlsKey: Setting; trustedProxies: Setting; proxyHeader: Setting }): ListenConfig {
  const trustedProxies = src.list(s.trustedProxies);
  try {
    new ClientAddressResolver(trustedProxies);
  } catch (err) {
    throw new ConfigError(src.name(s.trustedProxies), 'IP addresses or CIDRs', undefined, `invalid: ${(err as Error).message}`);
  }
  const proxyHeader = src.oneOf(s.proxyHeader, PROXY_HEADERS);
  const listen: ListenConfig = { ...src.addr(s.addr), tls: tlsFrom(src, s.tlsCertificate, s.tlsKey) };
  return trustedProxies.length === 0 ? listen : { ...listen, trustedProxies, proxyHeader };
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

/** The settings that belong to each auth mode: setting any of them selects that mode. */
const AUTH_MODE_SETTINGS = {
  htpasswd: [SETTINGS.registry.htpasswdPath, SETTINGS.registry.htpasswdRealm],
  token: [
    SETTINGS.registry.tokenRealm,
    SETTINGS.registry.tokenService,
    SETTINGS.registry.tokenIssuer,
    SETTINGS.registry.tokenRootCertBundle,
    SETTINGS.registry.tokenJwks,
  ],
} as const;

type AuthKind = RegistryAuthConfig['kind'];

/**
 * The auth mode, as CNCF distribution derives it from its configuration: REGISTRY_AUTH (or
 * the YAML `registry.auth` key) when given, else the mode whose settings are present, else
 * none. Settings of another mode than the chosen one are a mistake that would leave the
 * registry less protected than its operator thinks, so they stop the start. One exception,
 * as in distribution (an environment variable replaces its YAML subtree): REGISTRY_AUTH
 * switching the file's htpasswd to token or back sets the file's settings of the other
 * protected mode aside. Switching to none never does: that would open a protected file.
 */
function authKindOf(src: ConfigSource): AuthKind {
  const s = SETTINGS.registry;
  const envKind = src.origin(s.auth) === 'env' ? src.choice(s.auth) : undefined;
  const setAside = (setting: Setting) => envKind !== undefined && envKind !== 'none' && src.origin(setting) === 'yaml';
  const present = (kind: keyof typeof AUTH_MODE_SETTINGS) =>
    AUTH_MODE_SETTINGS[kind].filter((setting) => src.isSet(setting) && !(kind !== envKind && setAside(setting)));
  const given = { htpasswd: present('htpasswd'), token: present('token') };
  const names = (settings: readonly Setting[]) => settings.map((setting) => src.name(setting)).join(', ');
  if (src.isSet(s.auth)) {
    const kind = src.choice(s.auth);
    const foreign = [...(kind === 'htpasswd' ? [] : given.htpasswd), ...(kind === 'token' ? [] : given.token)];
    if (foreign.length > 0) {
      throw new ConfigError(src.name(s.auth), kind, undefined, `conflicting settings: auth is ${kind} but ${names(foreign)} ${foreign.length === 1 ? 'is' : 'are'} set; remove ${foreign.length === 1 ? 'it' : 'them'} or choose the matching auth mode`);
    }
    return kind;
  }
  if (given.htpasswd.length > 0 && given.token.length > 0) {
    throw new ConfigError(src.name(s.auth), 'htpasswd or token', undefined, `conflicting settings: htpasswd (${names(given.htpasswd)}) and token (${names(given.token)}) are both set; keep the settings of one auth mode`);
  }
  if (given.htpasswd.length > 0) return 'htpasswd';
  if (given.token.length > 0) return 'token';
  return 'none';
}

/**
 * The loud line an open registry prints at every start (stderr) and in `config check`;
 * undefined when the registry asks for credentials.
 */
export function openRegistryWarning(config: RegistryConfig): string | undefined {
  if (config.auth.kind !== 'none') return undefined;
  return `WARNING: the registry has no authentication (${SETTINGS.registry.auth.env}=none): anyone who can reach ${config.http.host}:${config.http.port} can push, overwrite and delete images. Set ${SETTINGS.registry.auth.env}=htpasswd or token for anything but a private test.`;
}

function registryAuthOf(src: ConfigSource): RegistryAuthConfig {
  const s = SETTINGS.registry;
  const kind = authKindOf(src);
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

/** S3's smallest part: every multipart part but the last must be at least this long. */
const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** Parts above this would make a writer's two buffers a memory problem of their own. */
const S3_MAX_PART_BYTES = 1024 * 1024 * 1024;

function s3StorageOf(src: ConfigSource): S3StorageConfig {
  const s = SETTINGS.registry;
  const accessKey = src.string(s.s3AccessKey);
  const secretKey = src.string(s.s3SecretKey);
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    const missing = accessKey === undefined ? s.s3AccessKey : s.s3SecretKey;
    throw new ConfigError(src.name(missing), 'a value', undefined, 'missing: the access key and the secret key go together (or leave both out for the AWS credential chain)');
  }
  const regionEndpoint = src.string(s.s3RegionEndpoint);
  if (regionEndpoint !== undefined && !/^(https?:\/\/)?[^\s/]+(\/\S*)?$/i.test(regionEndpoint)) {
    throw new ConfigError(src.name(s.s3RegionEndpoint), 'an http(s) URL or host[:port]', regionEndpoint);
  }
  return {
    region: src.requiredString(s.s3Region, 'for s3 storage'),
    regionEndpoint,
    bucket: src.requiredString(s.s3Bucket, 'for s3 storage'),
    rootDirectory: src.string(s.s3RootDirectory)!,
    accessKey,
    secretKey,
    forcePathStyle: src.bool(s.s3ForcePathStyle),
    secure: src.bool(s.s3Secure),
    skipVerify: src.bool(s.s3SkipVerify),
    chunkSize: src.int(s.s3ChunkSize, S3_MIN_PART_BYTES, S3_MAX_PART_BYTES),
    requestChecksumCalculation: src.oneOf(s.s3RequestChecksumCalculation, ['when_required', 'when_supported'] as const),
    redirect: !src.bool(s.redirectDisable),
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
    http: listenOf(src, s),
    dataDir,
    storage:
      driver === 'memory'
        ? { driver }
        : driver === 's3'
          ? { driver, s3: s3StorageOf(src) }
          : driver === 'azure'
            ? { driver, azure: azureStorageOf(src) }
            : driver === 'swift'
              ? { driver, swift: swiftStorageOf(src) }
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
    notifications: { endpoints: notificationEndpointsOf(src) },
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
    accountMaxFailures: src.int(s.loginMaxFailuresPerAccount, 1),
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
    http: listenOf(src, s),
    dataDir,
    database,
    token: {
      issuer: src.string(s.tokenIssuer)!,
      service: src.string(s.tokenService)!,
      ttlSeconds: src.int(s.tokenTtlSeconds, 30),
    },
    refreshTokens: { idleSeconds: src.int(s.refreshIdleSeconds, 60) },
    keysDir: src.path(s.keysDir) ?? join(dataDir, 'auth', 'keys'),
    keyStore: buildKeyStore(src),
    keyPublishAheadSeconds: src.int(s.keyPublishAheadSeconds, 0, 86_400),
    bcryptCost: src.int(s.bcryptCost, 4, 31),
    log: logOf(src),
    admin: { user: src.string(s.adminUser)!, password: src.string(s.adminPassword) },
    login: buildLoginThrottle(src),
    workers,
    oidc: buildOidcConfig(src),
    accessTokens: buildAccessTokenConfig(src),
    ldap: buildLdapConfig(src),
  };
}
