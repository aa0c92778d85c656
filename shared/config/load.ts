/**
 * Entry points: where the configuration file comes from, and loading each service's
 * configuration from that file plus the environment.
 */
import { buildAuthConfig, buildRegistryConfig } from './build.js';
import { checkRegistryEnv } from './env-check.js';
import { readConfigFile } from './file.js';
import { ConfigSource } from './source.js';
import { ConfigError, type AuthServiceConfig, type Env, type RegistryConfig } from './types.js';

/** Where to find the configuration: a YAML file (optional) and the environment. */
export interface LoadOptions {
  /** YAML file; when absent, DOCKYARD_CONFIG from `env` if set. */
  file?: string;
  env?: Env;
}

/** The configuration file named by `--config FILE` / `--config=FILE` in argv, else DOCKYARD_CONFIG. */
export function configFileFrom(argv: readonly string[], env: Env = process.env): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value === '' || value.startsWith('--')) {
        throw new ConfigError('--config', 'a file path after --config', undefined, 'missing: expected a file path after --config');
      }
      return value;
    }
    if (arg.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') throw new ConfigError('--config', 'a file path', undefined, 'missing: expected --config=FILE');
      return value;
    }
  }
  return env.DOCKYARD_CONFIG || undefined;
}

/** The source to build from, and the warnings met on the way (keys and variables without effect). */
function sourceFor(options: LoadOptions): { source: ConfigSource; warnings: string[] } {
  const raw = options.env ?? process.env;
  const { env, warnings } = checkRegistryEnv(raw);
  const file = options.file ?? (raw.DOCKYARD_CONFIG || undefined);
  const read = file === undefined ? undefined : readConfigFile(file);
  return { source: new ConfigSource(read, env), warnings: [...(read?.warnings ?? []), ...warnings] };
}

/** Registry configuration: defaults < YAML file < environment, validated. */
export function loadRegistryConfig(options: LoadOptions = {}): RegistryConfig {
  const { source, warnings } = sourceFor(options);
  return { ...buildRegistryConfig(source), warnings };
}

/** Auth service configuration: defaults < YAML file < environment, validated. */
export function loadAuthConfig(options: LoadOptions = {}): AuthServiceConfig {
  return buildAuthConfig(sourceFor(options).source);
}

/** Registry configuration from the environment alone (names follow CNCF distribution). */
export function registryConfigFromEnv(env: Env = process.env): RegistryConfig {
  return loadRegistryConfig({ env: { ...env, DOCKYARD_CONFIG: undefined } });
}

/** Auth service configuration from the environment alone. */
export function authConfigFromEnv(env: Env = process.env): AuthServiceConfig {
  return loadAuthConfig({ env: { ...env, DOCKYARD_CONFIG: undefined } });
}
