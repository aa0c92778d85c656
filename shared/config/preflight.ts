/**
 * What a start would fail on, found before anything listens: files the configuration
 * names (TLS pair, htpasswd, certificate bundle) unreadable, a data directory or SQLite
 * database that cannot be written, a port already taken. Every problem is a ConfigError
 * naming the path and the setting, so `config check` and a start report it the same way
 * and `npm start` never leaves one service listening while the other one fails.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { DatabaseConfig } from '../db/index.js';
import { loadTlsOptions } from '../http/tls.js';
import { SETTINGS, type Setting } from './settings.js';
import { ConfigError, type AuthServiceConfig, type ListenConfig, type RegistryConfig } from './types.js';

/** How a setting is named in these errors: YAML path and environment name. */
export function settingName(setting: Setting): string {
  return `${setting.yaml} (${setting.env})`;
}

/** For a path that is the data directory's default: both settings, so the user knows which one to change. */
function nameFor(setting: Setting, path: string, dataDir: string, defaultPath: string[]): string {
  return path === join(dataDir, ...defaultPath) ? `${settingName(setting)}, default under ${settingName(SETTINGS.common.dataDir)}` : settingName(setting);
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'unusable';
}

/** Throws unless `path` can be opened for reading. */
export function checkReadable(path: string, name: string): void {
  try {
    accessSync(path, constants.R_OK);
    if (statSync(path).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new ConfigError(name, 'a readable file', undefined, `cannot read ${path} (${errnoCode(err)})`);
  }
}

/**
 * Throws unless `dir` is (or can be created as) a directory this process may write: the
 * nearest existing ancestor must be a writable directory. access() also reports a
 * read-only file system (EROFS), which permission bits alone would not show for root.
 */
export function checkWritableDirectory(dir: string, name: string): void {
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    throw new ConfigError(name, 'a writable directory', undefined, `cannot create ${dir}: ${existing} is not a directory`);
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch (err) {
    throw new ConfigError(name, 'a writable directory', undefined, `cannot write ${existing === dir ? dir : `${existing} (to create ${dir})`} (${errnoCode(err)})`);
  }
}

/** A SQLite database needs its file writable and its directory writable (journal and WAL files). */
function checkDatabase(database: DatabaseConfig, name: string): void {
  if (database.client !== 'sqlite' || database.filename === ':memory:') return;
  checkWritableDirectory(dirname(database.filename), name);
  if (!existsSync(database.filename)) return;
  try {
    accessSync(database.filename, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new ConfigError(name, 'a writable database file', undefined, `cannot write ${database.filename} (${errnoCode(err)})`);
  }
}

const PORT_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'may not be opened by this user (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/** Throws when nothing could listen at `http` right now (port 0 always can). */
export async function checkPortFree(http: ListenConfig, name: string): Promise<void> {
  if (http.port === 0) return;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      const problem = PORT_PROBLEMS[errnoCode(err)] ?? `cannot be opened (${errnoCode(err)})`;
      reject(new ConfigError(name, 'a free port', undefined, `${http.host}:${http.port} ${problem}`));
    });
    server.listen({ host: http.host, port: http.port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Where a registry:2 store keeps its repositories under a storage root. */
export function registry2StoreIn(root: string): string | undefined {
  const repositories = join(root, 'docker', 'registry', 'v2', 'repositories');
  return existsSync(repositories) ? join(root, 'docker', 'registry', 'v2') : undefined;
}

/** Options of the checks: `ports: false` leaves the listening addresses unchecked. */
export interface PreflightOptions {
  ports?: boolean;
}

function databaseName(setting: Setting, database: DatabaseConfig, dataDir: string, defaultPath: string[]): string {
  return database.client === 'sqlite' ? nameFor(setting, database.filename, dataDir, defaultPath) : settingName(setting);
}

/** Checks what the registry's start needs; returns warnings worth logging (not failures). */
export async function preflightRegistry(config: RegistryConfig, options: PreflightOptions = {}): Promise<string[]> {
  const s = SETTINGS.registry;
  const warnings: string[] = [];
  if (config.http.tls) loadTlsOptions(config.http.tls, 'registry.http.tls');
  if (config.auth.kind === 'htpasswd') checkReadable(config.auth.path, settingName(s.htpasswdPath));
  if (config.auth.kind === 'token' && config.auth.rootCertBundle) checkReadable(config.auth.rootCertBundle, settingName(s.tokenRootCertBundle));
  if (config.storage.driver === 'filesystem') {
    checkWritableDirectory(config.storage.rootDirectory, nameFor(s.rootDirectory, config.storage.rootDirectory, config.dataDir, ['registry', 'blobs']));
    const store = registry2StoreIn(config.storage.rootDirectory);
    if (store) {
      warnings.push(`${config.storage.rootDirectory} holds a registry:2 store (${store}); Dockyard serves its images only once imported (npm run import -- registry2 ${config.storage.rootDirectory}; a repeated import skips what is done)`);
    }
  }
  checkDatabase(config.database, databaseName(s.databaseUrl, config.database, config.dataDir, ['registry', 'registry.sqlite']));
  if (options.ports !== false) await checkPortFree(config.http, settingName(s.addr));
  return warnings;
}

/** Checks what the auth service's start needs. */
export async function preflightAuth(config: AuthServiceConfig, options: PreflightOptions = {}): Promise<void> {
  const s = SETTINGS.auth;
  if (config.http.tls) loadTlsOptions(config.http.tls, 'auth.http.tls');
  checkDatabase(config.database, databaseName(s.databaseUrl, config.database, config.dataDir, ['auth', 'auth.sqlite']));
  if (config.keyStore?.kind !== 'database') checkWritableDirectory(config.keysDir, nameFor(s.keysDir, config.keysDir, config.dataDir, ['auth', 'keys']));
  if (config.ldap?.caFile) checkReadable(config.ldap.caFile, settingName(s.ldapCaFile));
  if (options.ports !== false) await checkPortFree(config.http, settingName(s.addr));
}
