/**
 * The storage driver a registry configuration names. The service and the registry's
 * command-line tools (import, gc) build theirs here, so a tool does not load the HTTP
 * service to find its storage.
 */
import type { RegistryConfig } from '../../../../shared/config/index.js';
import type { StorageDriver } from '../driver.js';
import { AzureDriver } from './azure/index.js';
import { FilesystemDriver } from './filesystem.js';
import { MemoryDriver } from './memory.js';
import { S3Driver } from './s3/index.js';
import { SwiftDriver } from './swift/index.js';

export function storageFor(config: RegistryConfig): StorageDriver {
  if (config.storage.driver === 'memory') return new MemoryDriver();
  if (config.storage.driver === 's3') return new S3Driver(config.storage.s3);
  if (config.storage.driver === 'azure') return new AzureDriver(config.storage.azure);
  if (config.storage.driver === 'swift') return new SwiftDriver(config.storage.swift);
  return new FilesystemDriver(config.storage.rootDirectory);
}
