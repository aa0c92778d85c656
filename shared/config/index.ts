/**
 * Configuration for both services: defaults, then a YAML file (`--config FILE` or
 * DOCKYARD_CONFIG), then environment overrides with the CNCF distribution names where a
 * concept is the same. Validation fails fast with a message naming the bad key. The
 * pieces live in shared/config/; this module is the one import path for callers.
 */
import { resolve } from 'node:path';
import type { Env } from './types.js';

export {
  ConfigError,
  LOG_LEVELS,
  type AuthServiceConfig,
  type Env,
  type ListenConfig,
  type LoginThrottleConfig,
  type LogLevel,
  type RegistryAuthConfig,
  type RegistryConfig,
  type RegistryGcConfig,
  type AzureStorageConfig,
  type S3StorageConfig,
  type SwiftStorageConfig,
  type StorageConfig,
} from './types.js';
export { type LdapConfig, type LdapPrecedence } from './ldap.js';
export { ALL_SETTINGS, SETTINGS, settingAt, type Setting } from './settings.js';
export { parseAddr, redactUrl } from './source.js';
export { buildLoginThrottle, openRegistryWarning } from './build.js';
export type { OidcConfig } from './oidc.js';
export { readConfigFile, type ConfigFile } from './file.js';
export {
  authConfigFromEnv,
  configFileFrom,
  loadAuthConfig,
  loadRegistryConfig,
  registryConfigFromEnv,
  type LoadOptions,
} from './load.js';

/** The data directory named by DOCKYARD_DATA_DIR (default ./data), as an absolute path. */
export function dataDirFrom(env: Env): string {
  return resolve(env.DOCKYARD_DATA_DIR || './data');
}
