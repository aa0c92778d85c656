/**
 * The table of every setting: its YAML path, its environment name, its default and what
 * it means. The loaders read values through these entries, the YAML key check derives the
 * allowed keys from them, and docs/configuration.md is checked against them, so a setting
 * exists in all three places or in none.
 */
import { AZURE_SETTINGS } from './azure-settings.js';
import { oidcSettings } from './oidc.js';
import { swiftSettings } from './swift-settings.js';
import { ldapSettings } from './ldap.js';

/** One configurable value. */
export interface Setting {
  /** Dotted YAML path, e.g. `registry.http.addr`. */
  readonly yaml: string;
  /** Environment variable that overrides the YAML value. */
  readonly env: string;
  /** Default used when neither YAML nor environment sets the value. */
  readonly default?: string | number | boolean;
  /** How the default reads in the docs when it is derived from another setting. */
  readonly defaultText?: string;
  /** For selectors (`registry.auth`, `registry.storage`): the YAML sub-keys, exactly one of which is given. */
  readonly choices?: readonly string[];
  readonly description: string;
}

import { WEB_SETTINGS } from './web-settings.js';

const common = {
  dataDir: {
    yaml: 'datadir',
    env: 'DOCKYARD_DATA_DIR',
    default: './data',
    description: 'Directory for everything stored by default: SQLite files, blobs, signing keys.',
  },
  logLevel: {
    yaml: 'log.level',
    env: 'LOG_LEVEL',
    default: 'info',
    description: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
  },
  workers: {
    yaml: 'workers',
    env: 'DOCKYARD_WORKERS',
    default: 1,
    description:
      'Processes serving each service (node:cluster workers sharing the listening socket): 1 to 64, or `auto` for one per available CPU. 1 runs no cluster at all.',
  },
} as const satisfies Record<string, Setting>;

const registry = {
  addr: {
    yaml: 'registry.http.addr',
    env: 'REGISTRY_HTTP_ADDR',
    default: '127.0.0.1:5000',
    description: 'host:port the registry listens on (`:5000` means every interface).',
  },
  tlsCertificate: {
    yaml: 'registry.http.tls.certificate',
    env: 'REGISTRY_HTTP_TLS_CERTIFICATE',
    description: 'PEM certificate (chain) for HTTPS; set together with the key.',
  },
  tlsKey: {
    yaml: 'registry.http.tls.key',
    env: 'REGISTRY_HTTP_TLS_KEY',
    description: 'PEM private key matching the certificate.',
  },
  trustedProxies: {
    yaml: 'registry.http.trustedproxies',
    env: 'REGISTRY_HTTP_TRUSTEDPROXIES',
    description:
      'Reverse proxies whose forwarding header names the client (addresses or CIDRs, IPv4 and IPv6; a YAML list or comma separated). Requests from anyone else are counted and logged under their own address, whatever they send.',
  },
  proxyHeader: {
    yaml: 'registry.http.proxyheader',
    env: 'REGISTRY_HTTP_PROXYHEADER',
    default: 'x-forwarded-for',
    description: 'The header the trusted proxies set: `x-forwarded-for` or `forwarded` (RFC 7239). Only that one is read.',
  },
  storage: {
    yaml: 'registry.storage',
    env: 'REGISTRY_STORAGE',
    default: 'filesystem',
    choices: ['filesystem', 's3', 'azure', 'swift', 'memory'],
    description: 'Blob storage driver: `filesystem`, `s3` (S3 or an S3-compatible store, docs/storage.md), `azure` (Azure Blob Storage, docs/storage.md), `swift` (OpenStack Swift, docs/storage.md), or `memory` (tests only: lost on restart).',
  },
  rootDirectory: {
    yaml: 'registry.storage.filesystem.rootdirectory',
    env: 'REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY',
    defaultText: '<datadir>/registry/blobs',
    description: 'Directory of the filesystem blob store.',
  },
  redirectDisable: {
    yaml: 'registry.storage.redirect.disable',
    env: 'REGISTRY_STORAGE_REDIRECT_DISABLE',
    default: true,
    description: 'With `false`, a blob GET on s3 or azure storage answers 307 to a presigned (SAS) URL of the object (valid 20 minutes) instead of streaming it through the registry; clients must reach the store’s endpoint then. Unlike CNCF distribution, the default is to proxy.',
  },
  s3Region: {
    yaml: 'registry.storage.s3.region',
    env: 'REGISTRY_STORAGE_S3_REGION',
    description: 'S3 region (e.g. `us-east-1`; any value for most S3-compatible stores); required for s3.',
  },
  s3RegionEndpoint: {
    yaml: 'registry.storage.s3.regionendpoint',
    env: 'REGISTRY_STORAGE_S3_REGIONENDPOINT',
    defaultText: '(AWS endpoint of the region)',
    description: 'Endpoint URL of an S3-compatible store, e.g. `http://rgw.internal:7480`; a bare host gets http or https from `secure`.',
  },
  s3Bucket: {
    yaml: 'registry.storage.s3.bucket',
    env: 'REGISTRY_STORAGE_S3_BUCKET',
    description: 'Bucket holding the blobs (it must exist); required for s3.',
  },
  s3RootDirectory: {
    yaml: 'registry.storage.s3.rootdirectory',
    env: 'REGISTRY_STORAGE_S3_ROOTDIRECTORY',
    default: '/',
    description: 'Key prefix every object is stored under, so several registries can share a bucket.',
  },
  s3AccessKey: {
    yaml: 'registry.storage.s3.accesskey',
    env: 'REGISTRY_STORAGE_S3_ACCESSKEY',
    defaultText: '(AWS credential chain)',
    description: 'Access key id; without it (and the secret key) credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID, profile, web identity, instance role).',
  },
  s3SecretKey: {
    yaml: 'registry.storage.s3.secretkey',
    env: 'REGISTRY_STORAGE_S3_SECRETKEY',
    defaultText: '(AWS credential chain)',
    description: 'Secret access key; set together with the access key, preferably in the environment.',
  },
  s3ForcePathStyle: {
    yaml: 'registry.storage.s3.forcepathstyle',
    env: 'REGISTRY_STORAGE_S3_FORCEPATHSTYLE',
    default: false,
    description: 'Address the bucket as `endpoint/bucket` instead of `bucket.endpoint` (Ceph RGW, MinIO).',
  },
  s3Secure: {
    yaml: 'registry.storage.s3.secure',
    env: 'REGISTRY_STORAGE_S3_SECURE',
    default: true,
    description: 'Use https (for the AWS endpoint and a `regionendpoint` given without a scheme).',
  },
  s3SkipVerify: {
    yaml: 'registry.storage.s3.skipverify',
    env: 'REGISTRY_STORAGE_S3_SKIPVERIFY',
    default: false,
    description: 'Do not verify the store’s TLS certificate (testing only).',
  },
  s3ChunkSize: {
    yaml: 'registry.storage.s3.chunksize',
    env: 'REGISTRY_STORAGE_S3_CHUNKSIZE',
    default: 10 * 1024 * 1024,
    description: 'Multipart part size in bytes (minimum 5242880, S3’s smallest part); each upload in flight holds up to two parts in memory.',
  },
  ...AZURE_SETTINGS,
  s3RequestChecksumCalculation: {
    yaml: 'registry.storage.s3.requestchecksumcalculation',
    env: 'REGISTRY_STORAGE_S3_REQUESTCHECKSUMCALCULATION',
    default: 'when_required',
    description:
      'As in CNCF distribution: `when_required` sends the SDK’s flexible checksums (x-amz-checksum-*) only where S3 demands them, and Content-MD5 on multi-object deletes; what Google Cloud Storage, Alibaba OSS and Ceph RGW expect. `when_supported` sends them on every upload (AWS S3 only).',
  },
  ...swiftSettings,
  databaseUrl: {
    yaml: 'registry.database.url',
    env: 'REGISTRY_DATABASE_URL',
    defaultText: 'sqlite:<datadir>/registry/registry.sqlite',
    description: 'Metadata database: `postgres://user:password@host:port/db` or `sqlite:PATH`.',
  },
  auth: {
    yaml: 'registry.auth',
    env: 'REGISTRY_AUTH',
    default: 'none',
    choices: ['none', 'htpasswd', 'token'],
    description: 'Access control: `none` (anyone may push), `htpasswd` (Basic) or `token` (Bearer JWT).',
  },
  htpasswdPath: {
    yaml: 'registry.auth.htpasswd.path',
    env: 'REGISTRY_AUTH_HTPASSWD_PATH',
    description: 'htpasswd file (bcrypt entries); required for htpasswd.',
  },
  htpasswdRealm: {
    yaml: 'registry.auth.htpasswd.realm',
    env: 'REGISTRY_AUTH_HTPASSWD_REALM',
    default: 'Registry Realm',
    description: 'Realm named in the Basic challenge.',
  },
  tokenRealm: {
    yaml: 'registry.auth.token.realm',
    env: 'REGISTRY_AUTH_TOKEN_REALM',
    description: 'Token endpoint URL clients are sent to (must be reachable by clients); required for token.',
  },
  tokenService: {
    yaml: 'registry.auth.token.service',
    env: 'REGISTRY_AUTH_TOKEN_SERVICE',
    default: 'dockyard',
    description: 'Service name: sent in the challenge and required as the token audience.',
  },
  tokenIssuer: {
    yaml: 'registry.auth.token.issuer',
    env: 'REGISTRY_AUTH_TOKEN_ISSUER',
    default: 'dockyard-auth',
    description: 'Required `iss` of tokens.',
  },
  tokenRootCertBundle: {
    yaml: 'registry.auth.token.rootcertbundle',
    env: 'REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE',
    description: 'PEM bundle of certificates whose keys may sign tokens. This or `jwks` is required for token.',
  },
  tokenJwks: {
    yaml: 'registry.auth.token.jwks',
    env: 'REGISTRY_AUTH_TOKEN_JWKS',
    description: 'JWKS URL of the token server; fetched again when a token names an unknown key id.',
  },
  readOnly: {
    yaml: 'registry.readonly',
    env: 'REGISTRY_READONLY',
    default: false,
    description: 'Refuse every write (push, delete) with 405; pulls keep working.',
  },
  purgeAfterSeconds: {
    yaml: 'registry.uploads.purgeafterseconds',
    env: 'REGISTRY_UPLOADS_PURGE_AFTER_SECONDS',
    default: 7 * 24 * 3600,
    description: 'Unfinished uploads older than this are deleted (minimum 60).',
  },
  manifestMaxBytes: {
    yaml: 'registry.limits.manifestmaxbytes',
    env: 'REGISTRY_MANIFEST_MAX_BYTES',
    default: 4 * 1024 * 1024,
    description: 'Largest accepted manifest body (minimum 1024).',
  },
  pageMaxEntries: {
    yaml: 'registry.limits.pagemaxentries',
    env: 'REGISTRY_PAGE_MAX_ENTRIES',
    default: 1000,
    description: 'Most entries one catalog / tags / referrers page returns (minimum 1).',
  },
  gcGraceSeconds: {
    yaml: 'registry.gc.graceseconds',
    env: 'REGISTRY_GC_GRACE_SECONDS',
    default: 86400,
    description:
      'Garbage collection deletes nothing touched (uploaded, mounted, HEADed, linked, pushed) within this many seconds; 0 allowed (tests).',
  },
  gcIntervalSeconds: {
    yaml: 'registry.gc.intervalseconds',
    env: 'REGISTRY_GC_INTERVAL_SECONDS',
    default: 3600,
    description: 'Seconds between background garbage collection runs; 0 turns the background run off (`gc run` still works).',
  },
  gcDeleteUntagged: {
    yaml: 'registry.gc.deleteuntagged',
    env: 'REGISTRY_GC_DELETE_UNTAGGED',
    default: false,
    description: 'Garbage collection also deletes manifests with no tag that no index references (children of a referenced index and referrers of a present subject are kept).',
  },
  notificationEndpoints: {
    yaml: 'registry.notifications.endpoints',
    env: 'REGISTRY_NOTIFICATIONS_ENDPOINTS',
    description:
      'Webhook endpoints, as in CNCF distribution\'s `notifications.endpoints` (a YAML list of `name`, `url`, `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`, `ignore`, `disabled`, plus Dockyard\'s `secret`, `repositories`, `format`); in the environment the same list as YAML or JSON text. See docs/notifications.md.',
  },
} as const satisfies Record<string, Setting>;

const auth = {
  addr: {
    yaml: 'auth.http.addr',
    env: 'AUTH_HTTP_ADDR',
    default: '127.0.0.1:5001',
    description: 'host:port the auth service listens on.',
  },
  tlsCertificate: {
    yaml: 'auth.http.tls.certificate',
    env: 'AUTH_HTTP_TLS_CERTIFICATE',
    description: 'PEM certificate (chain) for HTTPS; set together with the key.',
  },
  tlsKey: {
    yaml: 'auth.http.tls.key',
    env: 'AUTH_HTTP_TLS_KEY',
    description: 'PEM private key matching the certificate.',
  },
  trustedProxies: {
    yaml: 'auth.http.trustedproxies',
    env: 'AUTH_HTTP_TRUSTEDPROXIES',
    description:
      'Reverse proxies whose forwarding header names the client (addresses or CIDRs, IPv4 and IPv6; a YAML list or comma separated). Requests from anyone else are counted and logged under their own address, whatever they send.',
  },
  proxyHeader: {
    yaml: 'auth.http.proxyheader',
    env: 'AUTH_HTTP_PROXYHEADER',
    default: 'x-forwarded-for',
    description: 'The header the trusted proxies set: `x-forwarded-for` or `forwarded` (RFC 7239). Only that one is read.',
  },
  databaseUrl: {
    yaml: 'auth.database.url',
    env: 'AUTH_DATABASE_URL',
    defaultText: 'sqlite:<datadir>/auth/auth.sqlite',
    description: 'Users, robots, grants: `postgres://user:password@host:port/db` or `sqlite:PATH`.',
  },
  tokenIssuer: {
    yaml: 'auth.token.issuer',
    env: 'AUTH_TOKEN_ISSUER',
    default: 'dockyard-auth',
    description: '`iss` of issued tokens; must equal the registry’s `registry.auth.token.issuer`.',
  },
  tokenService: {
    yaml: 'auth.token.service',
    env: 'AUTH_TOKEN_SERVICE',
    default: 'dockyard',
    description: 'The service tokens are issued for (`aud`); must equal the registry’s `registry.auth.token.service`.',
  },
  tokenTtlSeconds: {
    yaml: 'auth.token.ttlseconds',
    env: 'AUTH_TOKEN_TTL_SECONDS',
    default: 300,
    description: 'Lifetime of an access token (minimum 30).',
  },
  refreshIdleSeconds: {
    yaml: 'auth.refreshtokens.idleseconds',
    env: 'AUTH_REFRESH_TOKEN_IDLE_SECONDS',
    default: 30 * 24 * 3600,
    description: 'A refresh token unused for this long stops working (minimum 60).',
  },
  keysDir: {
    yaml: 'auth.keysdir',
    env: 'AUTH_KEYS_DIR',
    defaultText: '<datadir>/auth/keys',
    description: 'Directory of the token signing keys and their certificates; created on first start.',
  },
  keyStore: {
    yaml: 'auth.keystore',
    env: 'AUTH_KEY_STORE',
    default: 'directory',
    description:
      'Where the signing keys live: `directory` (`auth.keysdir`, one host) or `database` (the auth database, private keys sealed with `auth.keyencryptionkeyfile`; for auth replicas on several hosts).',
  },
  keyPublishAheadSeconds: {
    yaml: 'auth.keypublishaheadseconds',
    env: 'AUTH_KEY_PUBLISH_AHEAD_SECONDS',
    default: 15,
    description:
      'How long the next signing key is published (JWKS, `/certs.pem`) before a rotation may make it sign; a rotation sooner after the previous one waits for the rest. Keep it above the JWKS refetch interval of every verifier (Dockyard registries: 10 s).',
  },
  keyEncryptionKeyFile: {
    yaml: 'auth.keyencryptionkeyfile',
    env: 'AUTH_KEY_ENCRYPTION_KEY_FILE',
    defaultText: '(none)',
    description:
      'File holding at least 32 random bytes (`openssl rand -base64 32`) that seal the private keys in the database; required with `auth.keystore: database`, the same file on every auth replica, mode 0600.',
  },
  bcryptCost: {
    yaml: 'auth.bcryptcost',
    env: 'AUTH_BCRYPT_COST',
    default: 10,
    description: 'bcrypt cost for new passwords (4 to 31).',
  },
  adminUser: {
    yaml: 'auth.admin.user',
    env: 'DOCKYARD_ADMIN_USER',
    default: 'admin',
    description: 'Name of the first admin, created on a start that finds no users at all.',
  },
  adminPassword: {
    yaml: 'auth.admin.password',
    env: 'DOCKYARD_ADMIN_PASSWORD',
    defaultText: '(generated, printed once)',
    description:
      'Password of that first admin (at least 8 characters); read only when it is created. Give it in the environment, not the file: a password in YAML ends up in backups and version control.',
  },
  loginMaxFailures: {
    yaml: 'auth.login.maxfailures',
    env: 'AUTH_LOGIN_MAX_FAILURES',
    default: 10,
    description: 'Failed logins per account from one client address within the window before further attempts from there get 429 (minimum 1).',
  },
  loginMaxFailuresPerAddress: {
    yaml: 'auth.login.maxfailuresperaddress',
    env: 'AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS',
    default: 50,
    description: 'Failed logins per client address within the window before further attempts get 429 (minimum 1).',
  },
  loginMaxFailuresPerAccount: {
    yaml: 'auth.login.maxfailuresperaccount',
    env: 'AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT',
    default: 30,
    description:
      'Failed logins per account from all addresses within the window; past it, only an address with no failure on that account in the window is still let try (minimum 1).',
  },
  loginWindowSeconds: {
    yaml: 'auth.login.windowseconds',
    env: 'AUTH_LOGIN_WINDOW_SECONDS',
    default: 300,
    description: 'The window failed logins are counted in (minimum 1).',
  },
  ...ldapSettings,
} as const satisfies Record<string, Setting>;

/** Every setting, grouped by the part of the file it lives in (the web UI's are in web-settings.ts). */
export const SETTINGS = { common, registry, auth, oidc: oidcSettings, web: WEB_SETTINGS } as const;

/** Every setting as a flat list (docs, key checks, tests). */
export const ALL_SETTINGS: readonly Setting[] = [
  ...Object.values(common),
  ...Object.values(registry),
  ...Object.values(auth),
  ...Object.values(oidcSettings),
  ...Object.values(WEB_SETTINGS),
];

/** The setting whose YAML path is `yaml`, if any. */
export function settingAt(yaml: string): Setting | undefined {
  return ALL_SETTINGS.find((s) => s.yaml === yaml);
}
