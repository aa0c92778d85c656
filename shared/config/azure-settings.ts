/**
 * The `registry.storage.azure` settings, with CNCF distribution's keys and environment
 * names (`REGISTRY_STORAGE_AZURE_*`, which other tools rely on). Kept beside the main table
 * (settings.ts spreads them into the registry's settings) so the Azure driver's settings
 * live in one place.
 */
import type { Setting } from './settings.js';

export const AZURE_SETTINGS = {
  azureAccountName: {
    yaml: 'registry.storage.azure.accountname',
    env: 'REGISTRY_STORAGE_AZURE_ACCOUNTNAME',
    description: 'Storage account name; required for azure.',
  },
  azureAccountKey: {
    yaml: 'registry.storage.azure.accountkey',
    env: 'REGISTRY_STORAGE_AZURE_ACCOUNTKEY',
    description: 'Storage account key (base64, as the portal shows it; Shared Key authorization); required for azure, preferably in the environment.',
  },
  azureContainer: {
    yaml: 'registry.storage.azure.container',
    env: 'REGISTRY_STORAGE_AZURE_CONTAINER',
    description: 'Blob container holding the blobs (it must exist); required for azure.',
  },
  azureRealm: {
    yaml: 'registry.storage.azure.realm',
    env: 'REGISTRY_STORAGE_AZURE_REALM',
    default: 'core.windows.net',
    description: 'Domain of the Azure cloud: the endpoint is `https://<accountname>.blob.<realm>` unless `serviceurl` is given (e.g. `core.chinacloudapi.cn`).',
  },
  azureServiceUrl: {
    yaml: 'registry.storage.azure.serviceurl',
    env: 'REGISTRY_STORAGE_AZURE_SERVICEURL',
    defaultText: 'https://<accountname>.blob.<realm>',
    description: 'Full blob service endpoint, as in CNCF distribution 3: e.g. `http://127.0.0.1:10000/devstoreaccount1` for Azurite, or a private endpoint. Overrides `realm`.',
  },
  azureRootDirectory: {
    yaml: 'registry.storage.azure.rootdirectory',
    env: 'REGISTRY_STORAGE_AZURE_ROOTDIRECTORY',
    default: '/',
    description: 'Name prefix every blob is stored under, so several registries can share a container.',
  },
} as const satisfies Record<string, Setting>;
