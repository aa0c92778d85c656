// `registry.storage.swift` as CNCF distribution spells it, the REGISTRY_STORAGE_SWIFT_*
// names other tools rely on, the defaults, and a distribution config.yml with a swift section.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRegistryConfig, registryConfigFromEnv } from '../../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-swift-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function yaml(text: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  return file;
}

describe('swift storage settings', () => {
  it('reads every key from YAML', () => {
    const file = yaml(
      [
        'registry:',
        '  storage:',
        '    swift: {authurl: "https://keystone.example:5000/v3", username: reg, password: pw, container: blobs, tenant: proj, tenantid: p1,',
        '            domain: Default, domainid: d1, region: RegionOne, endpointtype: internal, prefix: /prod, insecureskipverify: true, chunksize: 8388608}',
      ].join('\n'),
    );
    const { storage } = loadRegistryConfig({ file, env: {} });
    assert.deepEqual(storage, {
      driver: 'swift',
      swift: {
        authUrl: 'https://keystone.example:5000/v3',
        authVersion: 3,
        username: 'reg',
        password: 'pw',
        container: 'blobs',
        tenant: 'proj',
        tenantId: 'p1',
        domain: 'Default',
        domainId: 'd1',
        region: 'RegionOne',
        endpointType: 'internal',
        prefix: '/prod',
        insecureSkipVerify: true,
        chunkSize: 8 * 1024 * 1024,
      },
    });
  });

  it('takes distribution’s environment names over YAML, with auth v1 for an /auth/1.0 URL and the defaults', () => {
    const file = yaml('registry: {storage: {filesystem: {rootdirectory: /x}}}\n');
    const { storage } = loadRegistryConfig({
      file,
      env: {
        REGISTRY_STORAGE: 'swift',
        REGISTRY_STORAGE_SWIFT_AUTHURL: 'http://rgw:7480/auth/1.0',
        REGISTRY_STORAGE_SWIFT_USERNAME: 'registry:swift',
        REGISTRY_STORAGE_SWIFT_PASSWORD: 'key',
        REGISTRY_STORAGE_SWIFT_CONTAINER: 'c',
        REGISTRY_STORAGE_SWIFT_TENANT: 't',
        REGISTRY_STORAGE_SWIFT_DOMAIN: 'd',
      },
    });
    assert.deepEqual(storage, {
      driver: 'swift',
      swift: {
        authUrl: 'http://rgw:7480/auth/1.0',
        authVersion: 1,
        username: 'registry:swift',
        password: 'key',
        container: 'c',
        tenant: 't',
        tenantId: undefined,
        domain: 'd',
        domainId: undefined,
        region: undefined,
        endpointType: 'public',
        prefix: '/',
        insecureSkipVerify: false,
        chunkSize: 20 * 1024 * 1024,
      },
    });
  });

  it('lets authversion override what the URL suggests', () => {
    const { storage } = registryConfigFromEnv({
      REGISTRY_STORAGE: 'swift',
      REGISTRY_STORAGE_SWIFT_AUTHURL: 'https://identity.example/',
      REGISTRY_STORAGE_SWIFT_AUTHVERSION: '3',
      REGISTRY_STORAGE_SWIFT_USERNAME: 'u',
      REGISTRY_STORAGE_SWIFT_PASSWORD: 'p',
      REGISTRY_STORAGE_SWIFT_CONTAINER: 'c',
    });
    assert.ok(storage.driver === 'swift');
    assert.equal(storage.swift.authVersion, 3);
  });

  it('maps the swift section of a distribution config.yml', () => {
    const file = yaml(
      'version: 0.1\nstorage:\n  swift: {authurl: "http://rgw:7480/auth/1.0", username: "r:swift", password: k, container: reg, prefix: /p, chunksize: 2097152}\n',
    );
    const { storage } = loadRegistryConfig({ file, env: {} });
    assert.ok(storage.driver === 'swift');
    assert.equal(storage.swift.container, 'reg');
    assert.equal(storage.swift.prefix, '/p');
    assert.equal(storage.swift.chunkSize, 2 * 1024 * 1024);
  });

  it('refuses a distribution swift key Dockyard does not have, naming it', () => {
    const file = yaml('version: 0.1\nstorage:\n  swift: {authurl: "http://rgw/auth/1.0", username: u, password: p, container: c, tempurlcontainerkey: true}\n');
    assert.throws(() => loadRegistryConfig({ file, env: {} }), /storage\.swift\.tempurlcontainerkey: not supported by Dockyard's swift driver/);
  });
});
