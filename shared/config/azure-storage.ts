/**
 * `registry.storage.azure` → AzureStorageConfig: the names Azure accepts are checked here,
 * so a typo fails at start with the key to fix instead of at the first push.
 */
import { SETTINGS } from './settings.js';
import type { ConfigSource } from './source.js';
import { ConfigError, type AzureStorageConfig } from './types.js';

/** Azure's rules: account names 3-24 lowercase letters and digits; containers 3-63, with single hyphens inside. */
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const REALM = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export function azureStorageOf(src: ConfigSource): AzureStorageConfig {
  const s = SETTINGS.registry;
  const accountName = src.requiredString(s.azureAccountName, 'for azure storage');
  if (!ACCOUNT_NAME.test(accountName)) throw new ConfigError(src.name(s.azureAccountName), '3 to 24 lowercase letters and digits', accountName);
  const accountKey = src.requiredString(s.azureAccountKey, 'for azure storage');
  // Never echo the key itself.
  if (!BASE64.test(accountKey) || accountKey.length % 4 !== 0) throw new ConfigError(src.name(s.azureAccountKey), 'the base64 account key', '(a value that is not base64)');
  const container = src.requiredString(s.azureContainer, 'for azure storage');
  if (!CONTAINER_NAME.test(container)) {
    throw new ConfigError(src.name(s.azureContainer), 'a container name (3 to 63 lowercase letters, digits and single hyphens)', container);
  }
  const realm = src.string(s.azureRealm)!;
  if (!REALM.test(realm)) throw new ConfigError(src.name(s.azureRealm), 'a domain such as core.windows.net', realm);
  const serviceUrl = src.url(s.azureServiceUrl) ?? `https://${accountName}.blob.${realm}`;
  return {
    accountName,
    accountKey,
    container,
    serviceUrl: serviceUrl.replace(/\/+$/, ''),
    rootDirectory: src.string(s.azureRootDirectory)!,
    redirect: !src.bool(s.redirectDisable),
  };
}
