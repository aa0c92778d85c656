/**
 * Entry points: where the configuration file comes from, and loading each service's
 * configuration from that file plus the environment.
 */
import { buildAuthConfig, buildRegistryConfig } from './build.js';
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

function sourceFor(options: LoadOptions): ConfigSource {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.DOCKYARD_CONFIG || undefined);
  return new ConfigSource(file === undefined ? undefined : readConfigFile(file), env);
}

/** Registry configuration: defaults < YAML file < environment, validated. */
export function loadRegistryConfig(options: LoadOptions = {}): RegistryConfig {
  return buildRegistryConfig(sourceFor(options));
}

/** Auth service configuration: defaults < YAML file < environment, validated. */
export function loadAuthConfig(options: LoadOptions = {}): AuthServiceConfig {
  return buildAuthConfig(sourceFor(options));
}

/** Registry configuration from the environment alone (names follow CNCF distribution). */
export function registryConfigFromEnv(env: Env = process.env): RegistryConfig {
  return buildRegistryConfig(new ConfigSource(undefined, env));
}

/** Auth service configuration from the environment alone. */
export function authConfigFromEnv(env: Env = process.env): AuthServiceConfig {
  return buildAuthConfig(new ConfigSource(undefined, env));
}
