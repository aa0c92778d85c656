/**
 * `npx tsx services/config-check.ts FILE` (or `--config FILE`, or DOCKYARD_CONFIG):
 * validates the registry and auth sections of a configuration file together with the
 * environment overrides, and the files they name (TLS pair, htpasswd, certificate
 * bundle), without starting anything. Exit 0 and a summary, or exit 1 and the problem.
 */
import { accessSync, constants } from 'node:fs';
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
  type Setting,
} from '../shared/config/index.js';
import { loadTlsOptions } from '../shared/http/tls.js';

function checkReadable(path: string, setting: Setting): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${setting.yaml} (${setting.env})`, 'a readable file', undefined, `cannot read ${path} (${code})`);
  }
}

function describeListen(http: ListenConfig): string {
  return `${http.tls ? 'https' : 'http'}://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
}

function describeDatabase(db: DatabaseConfig): string {
  return db.client === 'sqlite' ? `sqlite ${db.filename}` : `postgres ${redactUrl(db.connection)}`;
}

/** Validates both sections; returns the summary lines, throws ConfigError on the first problem. */
export function checkConfiguration(file: string | undefined, env: Env): string[] {
  const registry = loadRegistryConfig({ file, env });
  const auth = loadAuthConfig({ file, env });
  if (registry.http.tls) loadTlsOptions(registry.http.tls, 'registry.http.tls');
  if (auth.http.tls) loadTlsOptions(auth.http.tls, 'auth.http.tls');
  if (registry.auth.kind === 'htpasswd') checkReadable(registry.auth.path, SETTINGS.registry.htpasswdPath);
  if (registry.auth.kind === 'token' && registry.auth.rootCertBundle) {
    checkReadable(registry.auth.rootCertBundle, SETTINGS.registry.tokenRootCertBundle);
  }
  const storage = registry.storage.driver === 'filesystem' ? `filesystem ${registry.storage.rootDirectory}` : 'memory';
  const access =
    registry.auth.kind === 'token' ? `token (realm ${registry.auth.realm}, service ${registry.auth.service})` : registry.auth.kind;
  const lines = [
    `registry: ${describeListen(registry.http)}, storage ${storage}, database ${describeDatabase(registry.database)}, auth ${access}${registry.readOnly ? ', read-only' : ''}`,
    `auth: ${describeListen(auth.http)}, database ${describeDatabase(auth.database)}, issuer ${auth.token.issuer}, service ${auth.token.service}, keys ${auth.keysDir}`,
  ];
  const open = openRegistryWarning(registry);
  if (open) lines.push(open);
  if (registry.auth.kind === 'token' && (registry.auth.service !== auth.token.service || registry.auth.issuer !== auth.token.issuer)) {
    lines.push('note: registry.auth.token service/issuer differ from auth.token; fine only when the registry trusts another token server');
  }
  return lines;
}

/** The command: returns the exit code after writing the verdict to `out` / `err`. */
export function runConfigCheck(
  argv: readonly string[],
  env: Env,
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): number {
  try {
    const positional = argv.filter((a) => !a.startsWith('--'));
    const file = argv.some((a) => a.startsWith('--config')) ? configFileFrom(argv, env) : positional[0] ?? configFileFrom([], env);
    if (file === undefined) {
      err('usage: config-check FILE (or --config FILE, or DOCKYARD_CONFIG=FILE)');
      return 1;
    }
    const lines = checkConfiguration(file, env);
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
  process.exitCode = runConfigCheck(process.argv.slice(2), process.env);
}
