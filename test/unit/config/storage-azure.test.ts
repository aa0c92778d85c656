// `registry.storage.azure` as CNCF distribution spells it (in Dockyard's YAML and in a
// distribution config.yml), the REGISTRY_STORAGE_AZURE_* overrides other tools rely on,
// the endpoint built from the realm, and the checks that fail at start naming the key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRegistryConfig, registryConfigFromEnv } from '../../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-azure-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY = Buffer.from('not a real account key, only base64').toString('base64');

function yaml(text: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  return file;
}

const ENV = {
  REGISTRY_STORAGE: 'azure',
  REGISTRY_STORAGE_AZURE_ACCOUNTNAME: 'acct1',
  REGISTRY_STORAGE_AZURE_ACCOUNTKEY: KEY,
  REGISTRY_STORAGE_AZURE_CONTAINER: 'registry',
};

describe('azure storage settings', () => {
  it('reads every key from YAML, with redirect.disable beside the driver', () => {
    const file = yaml(
      [
        'registry:',
        '  storage:',
        `    azure: {accountname: acct1, accountkey: "${KEY}", container: reg-blobs, realm: core.chinacloudapi.cn, rootdirectory: /prod}`,
        '    redirect: {disable: false}',
      ].join('\n'),
    );
    assert.deepEqual(loadRegistryConfig({ file, env: {} }).storage, {
      driver: 'azure',
      azure: {
        accountName: 'acct1',
        accountKey: KEY,
        container: 'reg-blobs',
        serviceUrl: 'https://acct1.blob.core.chinacloudapi.cn',
        rootDirectory: '/prod',
        redirect: true,
      },
    });
  });

  it('takes the REGISTRY_STORAGE_AZURE_* names over YAML; serviceurl (Azurite’s path-style endpoint) wins over realm', () => {
    const file = yaml('registry: {storage: {filesystem: {rootdirectory: /x}}}\n');
    const { storage } = loadRegistryConfig({
      file,
      env: {
        ...ENV,
        REGISTRY_STORAGE_AZURE_REALM: 'core.usgovcloudapi.net',
        REGISTRY_STORAGE_AZURE_SERVICEURL: 'http://127.0.0.1:10000/devstoreaccount1/',
        REGISTRY_STORAGE_AZURE_ROOTDIRECTORY: '/r',
        REGISTRY_STORAGE_REDIRECT_DISABLE: 'false',
      },
    });
    assert.ok(storage.driver === 'azure');
    assert.equal(storage.azure.serviceUrl, 'http://127.0.0.1:10000/devstoreaccount1');
    assert.equal(storage.azure.rootDirectory, '/r');
    assert.equal(storage.azure.redirect, true);
  });

  it('defaults: the public Azure cloud, the container’s root, proxied GETs', () => {
    const { storage } = registryConfigFromEnv(ENV);
    assert.ok(storage.driver === 'azure');
    assert.equal(storage.azure.serviceUrl, 'https://acct1.blob.core.windows.net');
    assert.equal(storage.azure.rootDirectory, '/');
    assert.equal(storage.azure.redirect, false);
  });

  it('fails at start naming the missing or malformed key, never echoing the account key', () => {
    for (const missing of ['REGISTRY_STORAGE_AZURE_ACCOUNTNAME', 'REGISTRY_STORAGE_AZURE_ACCOUNTKEY', 'REGISTRY_STORAGE_AZURE_CONTAINER']) {
      const env: Record<string, string> = { ...ENV };
      delete env[missing];
      assert.throws(() => registryConfigFromEnv(env), new RegExp(`${missing}.*required for azure storage`));
    }
    assert.throws(() => registryConfigFromEnv({ ...ENV, REGISTRY_STORAGE_AZURE_CONTAINER: 'Has_Upper' }), /REGISTRY_STORAGE_AZURE_CONTAINER.*container name/);
    assert.throws(() => registryConfigFromEnv({ ...ENV, REGISTRY_STORAGE_AZURE_ACCOUNTNAME: 'my-account' }), /REGISTRY_STORAGE_AZURE_ACCOUNTNAME/);
    assert.throws(() => registryConfigFromEnv({ ...ENV, REGISTRY_STORAGE_AZURE_SERVICEURL: 'ftp://x' }), /REGISTRY_STORAGE_AZURE_SERVICEURL/);
    assert.throws(
      () => registryConfigFromEnv({ ...ENV, REGISTRY_STORAGE_AZURE_ACCOUNTKEY: 'secret!value' }),
      (err: Error) => /REGISTRY_STORAGE_AZURE_ACCOUNTKEY.*base64/.test(err.message) && !err.message.includes('secret!value'),
    );
  });

  it('maps a distribution config.yml’s storage.azure, and names a key Dockyard’s driver lacks', () => {
    const file = yaml(`version: 0.1\nstorage:\n  azure: {accountname: acct1, accountkey: "${KEY}", container: registry, serviceurl: "http://127.0.0.1:10000/devstoreaccount1"}\n`);
    const { storage } = loadRegistryConfig({ file, env: {} });
    assert.ok(storage.driver === 'azure');
    assert.equal(storage.azure.container, 'registry');
    assert.equal(storage.azure.serviceUrl, 'http://127.0.0.1:10000/devstoreaccount1');
    const other = yaml(`version: 0.1\nstorage:\n  azure: {accountname: acct1, accountkey: "${KEY}", container: registry, credentials: {type: default_credentials}}\n`);
    assert.throws(() => loadRegistryConfig({ file: other, env: {} }), /storage\.azure\.credentials.*not supported by Dockyard's azure driver/);
  });
});
