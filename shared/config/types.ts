/**
 * The shapes both services receive after configuration is loaded and validated, and the
 * one error type every configuration problem becomes.
 */
import type { DatabaseConfig } from '../db/index.js';
import type { ProxyHeader } from '../http/client-address.js';
import type { OidcConfig } from './oidc.js';
import type { LdapConfig } from './ldap.js';
import type { NotificationEndpointConfig } from './notifications.js';

/** Environment variables as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

/** A configuration problem found at startup; `key` is the YAML path or environment name at fault. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly expected: string,
    got?: string,
    /** Replaces the standard "expected …, got …" sentence when the problem is not a wrong value. */
    problem?: string,
  ) {
    // A bad value is cut short so a pasted blob does not flood the log.
    const shown = got !== undefined && got.length > 120 ? `${got.slice(0, 120)}…` : got;
    super(
      `invalid configuration ${key}: ` +
        (problem ?? `expected ${expected}${shown === undefined ? '' : `, got ${JSON.stringify(shown)}`}`),
    );
    this.name = 'ConfigError';
  }
}

/** Where a service listens; TLS when both files are set. */
export interface ListenConfig {
  host: string;
  port: number;
  tls?: { certificate: string; key: string };
  /** Reverse proxies (addresses, CIDRs) whose forwarding header is believed; none when absent. */
  trustedProxies?: string[];
  /** The header those proxies set (default `x-forwarded-for`). */
  proxyHeader?: ProxyHeader;
}

/** pino levels accepted by `log.level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

/** `registry.storage.s3`, with CNCF distribution's keys (docs/storage.md). */
export interface S3StorageConfig {
  region: string;
  /** Endpoint URL (or bare host) of an S3-compatible store; absent: AWS. */
  regionEndpoint?: string;
  bucket: string;
  /** Key prefix; `/` for the bucket's root. */
  rootDirectory: string;
  /** Both or neither; neither means the standard AWS credential chain. */
  accessKey?: string;
  secretKey?: string;
  forcePathStyle: boolean;
  secure: boolean;
  skipVerify: boolean;
  /** Multipart part size in bytes (at least 5 MiB). */
  chunkSize: number;
  /** The SDK's flexible request checksums: only where S3 requires them (default), or on every upload. */
  requestChecksumCalculation?: 'when_required' | 'when_supported';
  /** Blob GETs answer 307 to a presigned URL instead of streaming (storage.redirect.disable: false). */
  redirect: boolean;
}

/** `registry.storage.azure`, with CNCF distribution's keys (docs/storage.md). */
export interface AzureStorageConfig {
  accountName: string;
  accountKey: string;
  container: string;
  /** The blob service endpoint: `serviceurl`, or `https://<accountname>.blob.<realm>`. */
  serviceUrl: string;
  /** Name prefix; `/` for the container's root. */
  rootDirectory: string;
  /** Blob GETs answer 307 to a SAS URL instead of streaming (storage.redirect.disable: false). */
  redirect: boolean;
}

/** `registry.storage.swift`, with CNCF distribution's keys (docs/storage.md). */
export interface SwiftStorageConfig {
  authUrl: string;
  /** 1: `X-Auth-User`/`X-Auth-Key` against authUrl; 3: Keystone v3 password auth and its catalog. */
  authVersion: 1 | 3;
  username: string;
  password: string;
  container: string;
  tenant?: string;
  tenantId?: string;
  domain?: string;
  domainId?: string;
  region?: string;
  endpointType: 'public' | 'internal' | 'admin';
  /** Object name prefix; `/` for the container's root. */
  prefix: string;
  insecureSkipVerify: boolean;
  /** Segment size in bytes of a static large object. */
  chunkSize: number;
}

export type StorageConfig =
  | { driver: 'filesystem'; rootDirectory: string }
  | { driver: 's3'; s3: S3StorageConfig }
  | { driver: 'azure'; azure: AzureStorageConfig }
  | { driver: 'swift'; swift: SwiftStorageConfig }
  | { driver: 'memory' };

export interface RegistryConfig {
  http: ListenConfig;
  dataDir: string;
  storage: StorageConfig;
  database: DatabaseConfig;
  auth: RegistryAuthConfig;
  readOnly: boolean;
  uploads: { purgeAfterSeconds: number };
  limits: { manifestMaxBytes: number; pageMaxEntries: number };
  /** Garbage collection (services/registry/lifecycle). Set by the loaders; absent in hand-built test configs means the defaults. */
  gc?: RegistryGcConfig;
  /** Webhook endpoints from the configuration (services/registry/notifications); absent means none. */
  notifications?: { endpoints: NotificationEndpointConfig[] };
  /** Always set by the loaders; optional so hand-built test configs need not repeat it. */
  log?: { level: LogLevel };
  /** Processes serving the registry (DOCKYARD_WORKERS); set by the loaders, absent means 1. */
  workers?: number;
  /** Settings given that have no effect in Dockyard (distribution keys and variables), logged at start. */
  warnings?: readonly string[];
}

/** How garbage collection runs (registry.gc.*). */
export interface RegistryGcConfig {
  graceSeconds: number;
  /** 0: no background runs. */
  intervalSeconds: number;
  deleteUntagged: boolean;
}

export interface AuthServiceConfig {
  http: ListenConfig;
  dataDir: string;
  database: DatabaseConfig;
  token: { issuer: string; service: string; ttlSeconds: number };
  refreshTokens: { idleSeconds: number };
  /** Directory holding the signing keys and certificates (mode 0600 files). */
  keysDir: string;
  /** Where the signing keys live; absent (hand-built configs) means the directory. */
  keyStore?: { kind: 'directory' } | { kind: 'database'; encryptionKeyFile: string };
  /** Seconds the next signing key is published before a rotation makes it sign (default 15). */
  keyPublishAheadSeconds?: number;
  bcryptCost: number;
  /** Always set by the loaders; optional so hand-built test configs need not repeat it. */
  log?: { level: LogLevel };
  /**
   * The first admin, created on a start that finds no users; without a password one is
   * generated. Set by the loaders; hand-built test configs leave it to the start options.
   */
  admin?: { user: string; password?: string };
  /** Login throttling limits. Set by the loaders; hand-built test configs leave it to the start options. */
  login?: LoginThrottleConfig;
  /** Processes serving the auth service (DOCKYARD_WORKERS); set by the loaders, absent means 1. */
  workers?: number;
  /** Single sign-on (auth.oidc.*, shared/config/oidc.ts); absent: off. */
  oidc?: OidcConfig;
  /** Personal access token limits (auth.accesstokens.*); absent means the defaults. */
  accessTokens?: { maxLifetimeSeconds: number };
  /** Directory sign-in (auth.ldap.*); absent: off. */
  ldap?: LdapConfig;
}

/** How many failed logins within which window trigger throttling (HTTP 429). */
export interface LoginThrottleConfig {
  /** Failures per account from one client address within the window. */
  maxFailures: number;
  /** Failures per client address within the window. */
  addressMaxFailures: number;
  /** Failures per account from all addresses, past which only clean addresses are evaluated. */
  accountMaxFailures: number;
  windowSeconds: number;
}
