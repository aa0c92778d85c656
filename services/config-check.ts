/**
 * `npx tsx services/config-check.ts FILE` (or `--config FILE`, or DOCKYARD_CONFIG):
 * validates the registry and auth sections of a configuration file (Dockyard's own or a
 * distribution config.yml) together with the environment, and everything the start
 * checks before it listens (shared/config/preflight.ts), without starting anything; an S3
 * bucket must answer and take a probe write.
 * Exit 0 and the effective mode of every part, or exit 1 and the problem.
 */
import { pathToFileURL } from 'node:url';
import type { DatabaseConfig } from '../shared/db/index.js';
import {
  ConfigError,
  configFileFrom,
  loadAuthConfig,
  loadRegistryConfig,
  openRegistryWarning,
  redactUrl,
  SETTINGS,
  type Env,
  type ListenConfig,
  type RegistryConfig,
  type Setting,
  type StorageConfig,
} from '../shared/config/index.js';
import { preflightAuth, preflightRegistry } from '../shared/config/preflight.js';
import { checkS3Bucket, S3CheckError, type S3Setting } from './registry/storage/drivers/s3/check.js';
import { AzureCheckError, checkAzureContainer, type AzureSetting } from './registry/storage/drivers/azure/check.js';
import { checkSwiftContainer, SwiftCheckError, type SwiftSetting } from './registry/storage/drivers/swift/check.js';
import { checkDirectory, describeDirectory } from './auth/identity/ldap/check.js';

function describeListen(http: ListenConfig): string {
  return `${http.tls ? 'https' : 'http'}://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
}

function describeTls(http: ListenConfig): string {
  return http.tls ? `certificate ${http.tls.certificate}, key ${http.tls.key}` : 'off (plain http)';
}

function describeDatabase(db: DatabaseConfig): string {
  return db.client === 'sqlite' ? `sqlite ${db.filename}` : `postgres ${redactUrl(db.connection)}`;
}

function describeAccess(auth: RegistryConfig['auth']): string {
  if (auth.kind === 'token') {
    const keys = [auth.rootCertBundle && `bundle ${auth.rootCertBundle}`, auth.jwksUrl && `jwks ${auth.jwksUrl}`].filter(Boolean).join(', ');
    return `token (realm ${auth.realm}, service ${auth.service}, issuer ${auth.issuer}, keys ${keys})`;
  }
  return auth.kind === 'htpasswd' ? `htpasswd (file ${auth.path}, realm ${auth.realm})` : 'none (anyone may pull and push)';
}

function describeStorage(storage: StorageConfig): string {
  if (storage.driver === 'filesystem') return `filesystem ${storage.rootDirectory}`;
  if (storage.driver === 'memory') return 'memory';
  if (storage.driver === 'azure') {
    const { azure } = storage;
    return `azure container ${azure.container} (${azure.serviceUrl}, account ${azure.accountName}, root ${azure.rootDirectory})`;
  }
  if (storage.driver === 'swift') {
    const { swift } = storage;
    return `swift container ${swift.container} (${swift.authUrl}, auth v${swift.authVersion}, user ${swift.username}, prefix ${swift.prefix})`;
  }
  const { s3 } = storage;
  return `s3 bucket ${s3.bucket} (${s3.regionEndpoint ?? `AWS ${s3.region}`}, root ${s3.rootDirectory}, ${s3.accessKey ? 'access key' : 'AWS credential chain'})`;
}

/** The S3 settings each kind of bucket-check failure points at. */
const S3_SETTING: Record<S3Setting, Setting> = {
  regionendpoint: SETTINGS.registry.s3RegionEndpoint,
  accesskey: SETTINGS.registry.s3AccessKey,
  bucket: SETTINGS.registry.s3Bucket,
};

/** The Azure settings each kind of container-check failure points at. */
const AZURE_SETTING: Record<AzureSetting, Setting> = {
  serviceurl: SETTINGS.registry.azureServiceUrl,
  accountkey: SETTINGS.registry.azureAccountKey,
  container: SETTINGS.registry.azureContainer,
};

/** The Swift settings each kind of container-check failure points at. */
const SWIFT_SETTING: Record<SwiftSetting, Setting> = {
  authurl: SETTINGS.registry.swiftAuthUrl,
  username: SETTINGS.registry.swiftUsername,
  container: SETTINGS.registry.swiftContainer,
};

/** How an object store is checked: the check, the setting a failure of it points at, what was expected. */
interface StoreCheck {
  run: () => Promise<void>;
  settingOf: (err: unknown) => Setting | undefined;
  expected: string;
}

function storeCheck(storage: StorageConfig): StoreCheck | undefined {
  switch (storage.driver) {
    case 's3':
      return {
        run: () => checkS3Bucket(storage.s3),
        settingOf: (err) => (err instanceof S3CheckError ? S3_SETTING[err.setting] : undefined),
        expected: 'a reachable, writable bucket',
      };
    case 'azure':
      return {
        run: () => checkAzureContainer(storage.azure),
        settingOf: (err) => (err instanceof AzureCheckError ? AZURE_SETTING[err.setting] : undefined),
        expected: 'a reachable, writable container',
      };
    case 'swift':
      return {
        run: () => checkSwiftContainer(storage.swift),
        settingOf: (err) => (err instanceof SwiftCheckError ? SWIFT_SETTING[err.setting] : undefined),
        expected: 'a reachable, writable container',
      };
    default:
      return undefined;
  }
}

/** An object store must answer and take a write: a typo in the endpoint, keys or bucket shows now, not at the first push. */
async function checkStorageReachable(storage: StorageConfig): Promise<void> {
  const check = storeCheck(storage);
  if (check === undefined) return;
  try {
    await check.run();
  } catch (err) {
    const setting = check.settingOf(err);
    if (setting === undefined) throw err;
    throw new ConfigError(`${setting.yaml} (${setting.env})`, check.expected, undefined, (err as Error).message);
  }
}

/**
 * Validates both sections, the files they name, the directories and databases they write
 * and the ports they listen on; returns the summary of what `npm start` will really run.
 * Throws ConfigError on the first problem.
 */
export async function checkConfiguration(file: string | undefined, env: Env): Promise<string[]> {
  const auth = loadAuthConfig({ file, env });
  // The registry as `npm start` runs it: wired to its own auth service unless told otherwise.
  const { wiredRegistryEnv } = await import('./main.js');
  const authUrl = describeListen(auth.http).replace('//0.0.0.0:', '//127.0.0.1:');
  const registry = loadRegistryConfig({ file, env: wiredRegistryEnv(file, env, auth, authUrl) });
  const alone = loadRegistryConfig({ file, env });
  const warnings = await preflightRegistry(registry);
  await preflightAuth(auth);
  if (registry.http.host === auth.http.host && registry.http.port === auth.http.port && registry.http.port !== 0) {
    throw new ConfigError('registry.http.addr (REGISTRY_HTTP_ADDR)', 'a port', undefined, `the registry and the auth service would both listen on ${auth.http.host}:${auth.http.port} (auth.http.addr)`);
  }
  await checkStorageReachable(registry.storage);
  if (auth.ldap) {
    try {
      await checkDirectory(auth.ldap);
    } catch (err) {
      const setting = SETTINGS.auth.ldapUrl;
      throw new ConfigError(`${setting.yaml} (${setting.env})`, 'a reachable directory', undefined, `the directory check failed: ${(err as Error).message}`);
    }
  }
  const storage = describeStorage(registry.storage);
  const lines = [
    `registry: ${describeListen(registry.http)}, storage ${storage}, database ${describeDatabase(registry.database)}, auth ${describeAccess(registry.auth)}${registry.readOnly ? ', read-only' : ''}`,
    `registry tls: ${describeTls(registry.http)}`,
    `auth: ${describeListen(auth.http)}, database ${describeDatabase(auth.database)}, issuer ${auth.token.issuer}, service ${auth.token.service}, keys ${auth.keysDir}`,
    `auth tls: ${describeTls(auth.http)}`,
    ...(auth.ldap ? [describeDirectory(auth.ldap)] : []),
  ];
  if (alone.auth.kind !== registry.auth.kind) {
    lines.push(`npm run registry alone: auth ${describeAccess(alone.auth)} (npm start wires token auth to its own auth service)`);
  }
  const open = openRegistryWarning(registry) ?? openRegistryWarning(alone);
  if (open) lines.push(open);
  if (registry.auth.kind === 'token' && (registry.auth.service !== auth.token.service || registry.auth.issuer !== auth.token.issuer)) {
    lines.push('note: registry.auth.token service/issuer differ from auth.token; fine only when the registry trusts another token server');
  }
  for (const warning of [...(registry.warnings ?? []), ...warnings]) lines.push(`warning: ${warning}`);
  return lines;
}

/** The command: returns the exit code after writing the verdict to `out` / `err`. */
export async function runConfigCheck(
  argv: readonly string[],
  env: Env,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  try {
    const positional = argv.filter((a) => !a.startsWith('--'));
    const file = argv.some((a) => a.startsWith('--config')) ? configFileFrom(argv, env) : positional[0] ?? configFileFrom([], env);
    if (file === undefined) {
      err('usage: config-check FILE (or --config FILE, or DOCKYARD_CONFIG=FILE)');
      return 1;
    }
    const lines = await checkConfiguration(file, env);
    out(`configuration OK: ${file}`);
    for (const line of lines) out(`  ${line}`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      err(error.message);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runConfigCheck(process.argv.slice(2), process.env);
}
