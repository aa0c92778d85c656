/**
 * Configuration for both services: defaults, then (later) a YAML file, then environment
 * overrides with the CNCF distribution names where a concept is the same. Validation
 * fails fast with a message naming the bad key.
 */
import { join, resolve } from 'node:path';
import type { DatabaseConfig } from './db.js';

export class ConfigError extends Error {
  constructor(readonly key: string, expected: string, got?: string) {
    super(`invalid configuration ${key}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`);
    this.name = 'ConfigError';
  }
}

export interface ListenConfig {
  host: string;
  port: number;
  tls?: { certificate: string; key: string };
}

export type RegistryAuthConfig =
  | { kind: 'none' }
  | { kind: 'htpasswd'; path: string; realm: string }
  | {
      kind: 'token';
      realm: string;
      service: string;
      issuer: string;
      /** PEM bundle of certificates whose keys may sign tokens. */
      rootCertBundle?: string;
      /** JWKS URL of the token server (keys refreshed on an unknown kid). */
      jwksUrl?: string;
    };

export interface RegistryConfig {
  http: ListenConfig;
  dataDir: string;
  storage: { driver: 'filesystem'; rootDirectory: string } | { driver: 'memory' };
  database: DatabaseConfig;
  auth: RegistryAuthConfig;
  readOnly: boolean;
  uploads: { purgeAfterSeconds: number };
  limits: { manifestMaxBytes: number; pageMaxEntries: number };
}

export interface AuthServiceConfig {
  http: ListenConfig;
  dataDir: string;
  database: DatabaseConfig;
  token: { issuer: string; service: string; ttlSeconds: number };
  refreshTokens: { idleSeconds: number };
  /** Directory holding the signing keys and certificates (mode 0600 files). */
  keysDir: string;
  bcryptCost: number;
}

type Env = Record<string, string | undefined>;

export function parseAddr(key: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new ConfigError(key, 'host:port (e.g. 127.0.0.1:5000 or :5000)', value);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function intValue(env: Env, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new ConfigError(key, `an integer >= ${min}`, raw);
  return Number(raw);
}

function boolValue(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(key, 'true or false', raw);
}

function tlsFrom(env: Env, prefix: string): ListenConfig['tls'] {
  const certificate = env[`${prefix}_TLS_CERTIFICATE`];
  const key = env[`${prefix}_TLS_KEY`];
  if (!certificate && !key) return undefined;
  if (!certificate) throw new ConfigError(`${prefix}_TLS_CERTIFICATE`, 'a certificate file when the key is set');
  if (!key) throw new ConfigError(`${prefix}_TLS_KEY`, 'a key file when the certificate is set');
  return { certificate: resolve(certificate), key: resolve(key) };
}

function databaseFrom(env: Env, key: string, sqliteFile: string): DatabaseConfig {
  const url = env[key];
  if (!url) return { client: 'sqlite', filename: sqliteFile };
  if (/^postgres(ql)?:\/\//.test(url)) return { client: 'pg', connection: url };
  if (url.startsWith('sqlite:')) return { client: 'sqlite', filename: resolve(url.slice('sqlite:'.length)) };
  throw new ConfigError(key, 'postgres://… or sqlite:PATH', url);
}

export function dataDirFrom(env: Env): string {
  return resolve(env.DOCKYARD_DATA_DIR || './data');
}

/** Registry configuration from the environment (names follow CNCF distribution). */
export function registryConfigFromEnv(env: Env = process.env): RegistryConfig {
  const dataDir = dataDirFrom(env);
  const auth = (env.REGISTRY_AUTH || 'none').toLowerCase();
  let authConfig: RegistryAuthConfig;
  if (auth === 'none') authConfig = { kind: 'none' };
  else if (auth === 'htpasswd') {
    const path = env.REGISTRY_AUTH_HTPASSWD_PATH;
    if (!path) throw new ConfigError('REGISTRY_AUTH_HTPASSWD_PATH', 'an htpasswd file when REGISTRY_AUTH=htpasswd');
    authConfig = { kind: 'htpasswd', path: resolve(path), realm: env.REGISTRY_AUTH_HTPASSWD_REALM || 'Registry Realm' };
  } else if (auth === 'token') {
    const realm = env.REGISTRY_AUTH_TOKEN_REALM;
    if (!realm) throw new ConfigError('REGISTRY_AUTH_TOKEN_REALM', 'the token endpoint URL when REGISTRY_AUTH=token');
    const bundle = env.REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE;
    const jwksUrl = env.REGISTRY_AUTH_TOKEN_JWKS;
    if (!bundle && !jwksUrl) {
      throw new ConfigError('REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE', 'a certificate bundle file or REGISTRY_AUTH_TOKEN_JWKS URL');
    }
    authConfig = {
      kind: 'token',
      realm,
      service: env.REGISTRY_AUTH_TOKEN_SERVICE || 'dockyard',
      issuer: env.REGISTRY_AUTH_TOKEN_ISSUER || 'dockyard-auth',
      rootCertBundle: bundle ? resolve(bundle) : undefined,
      jwksUrl: jwksUrl || undefined,
    };
  } else throw new ConfigError('REGISTRY_AUTH', 'none, htpasswd or token', env.REGISTRY_AUTH);

  const driver = env.REGISTRY_STORAGE || 'filesystem';
  if (driver !== 'filesystem' && driver !== 'memory') throw new ConfigError('REGISTRY_STORAGE', 'filesystem or memory', driver);
  return {
    http: { ...parseAddr('REGISTRY_HTTP_ADDR', env.REGISTRY_HTTP_ADDR || '127.0.0.1:5000'), tls: tlsFrom(env, 'REGISTRY_HTTP') },
    dataDir,
    storage:
      driver === 'memory'
        ? { driver: 'memory' }
        : { driver: 'filesystem', rootDirectory: resolve(env.REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY || join(dataDir, 'registry', 'blobs')) },
    database: databaseFrom(env, 'REGISTRY_DATABASE_URL', join(dataDir, 'registry', 'registry.sqlite')),
    auth: authConfig,
    readOnly: boolValue(env, 'REGISTRY_READONLY', false),
    uploads: { purgeAfterSeconds: intValue(env, 'REGISTRY_UPLOADS_PURGE_AFTER_SECONDS', 7 * 24 * 3600, 60) },
    limits: {
      manifestMaxBytes: intValue(env, 'REGISTRY_MANIFEST_MAX_BYTES', 4 * 1024 * 1024, 1024),
      pageMaxEntries: intValue(env, 'REGISTRY_PAGE_MAX_ENTRIES', 1000, 1),
    },
  };
}

/** Auth service configuration from the environment. */
export function authConfigFromEnv(env: Env = process.env): AuthServiceConfig {
  const dataDir = dataDirFrom(env);
  return {
    http: { ...parseAddr('AUTH_HTTP_ADDR', env.AUTH_HTTP_ADDR || '127.0.0.1:5001'), tls: tlsFrom(env, 'AUTH_HTTP') },
    dataDir,
    database: databaseFrom(env, 'AUTH_DATABASE_URL', join(dataDir, 'auth', 'auth.sqlite')),
    token: {
      issuer: env.AUTH_TOKEN_ISSUER || 'dockyard-auth',
      service: env.AUTH_TOKEN_SERVICE || 'dockyard',
      ttlSeconds: intValue(env, 'AUTH_TOKEN_TTL_SECONDS', 300, 30),
    },
    refreshTokens: { idleSeconds: intValue(env, 'AUTH_REFRESH_TOKEN_IDLE_SECONDS', 30 * 24 * 3600, 60) },
    keysDir: resolve(env.AUTH_KEYS_DIR || join(dataDir, 'auth', 'keys')),
    bcryptCost: intValue(env, 'AUTH_BCRYPT_COST', 10, 4),
  };
}
