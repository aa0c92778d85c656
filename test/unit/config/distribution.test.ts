// A CNCF distribution config.yml is read as it is: mapped keys land on Dockyard's settings,
// keys without effect become warnings, keys Dockyard cannot honour stop the start naming
// the key, and a misspelled key gets the nearest known one. Debian's stock file (as the
// docker-registry package ships it) loads with only its paths changed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRegistryConfig, type RegistryConfig } from '../../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-distribution-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Debian 12's /etc/docker/registry/config.yml with its two paths rewritten. */
const DEBIAN_STOCK = (root: string, htpasswd: string): string => `version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: ${root}
  delete:
    enabled: true
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: basic-realm
    path: ${htpasswd}
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`;

let count = 0;
function load(text: string, env: Record<string, string> = {}): RegistryConfig {
  const file = join(dir, `config-${count++}.yml`);
  writeFileSync(file, text);
  return loadRegistryConfig({ file, env });
}

function refused(text: string, expected: RegExp, env: Record<string, string> = {}): void {
  assert.throws(() => load(text, env), expected);
}

describe('a distribution config.yml', () => {
  it('loads Debian\'s stock file, mapping addr, storage root, htpasswd, and warning about what has no effect', () => {
    const config = load(DEBIAN_STOCK('/srv/registry', '/etc/registry.htpasswd'));
    assert.deepEqual(config.http, { host: '0.0.0.0', port: 5000, tls: undefined });
    assert.deepEqual(config.storage, { driver: 'filesystem', rootDirectory: '/srv/registry' });
    assert.deepEqual(config.auth, { kind: 'htpasswd', path: '/etc/registry.htpasswd', realm: 'basic-realm' });
    // Everything the registry keeps stays under the storage root, as with registry:2.
    assert.equal(config.dataDir, '/srv/registry');
    assert.deepEqual(config.database, { client: 'sqlite', filename: '/srv/registry/registry/registry.sqlite' });
    assert.deepEqual(config.warnings, [
      'log.fields (service): ignored: Dockyard does not add fixed fields to its log lines',
      'health.storagedriver (enabled, interval, threshold): ignored: /readyz checks the storage and the database on every probe',
    ]);
  });

  it('maps upload purging, read-only mode, TLS, token auth and the log level', () => {
    const config = load(`version: "0.1"
loglevel: warning
storage:
  inmemory:
  maintenance:
    uploadpurging: {enabled: true, age: 36h, interval: 1h, dryrun: false}
    readonly: {enabled: true}
http:
  addr: 127.0.0.1:5443
  tls: {certificate: tls/cert.pem, key: tls/key.pem}
auth:
  token: {realm: "https://auth.example/token", service: reg, issuer: iss, rootcertbundle: bundle.pem}
`);
    assert.equal(config.log?.level, 'warn');
    assert.equal(config.storage.driver, 'memory');
    assert.equal(config.uploads.purgeAfterSeconds, 36 * 3600);
    assert.equal(config.readOnly, true);
    assert.deepEqual(config.http.tls, { certificate: join(dir, 'tls/cert.pem'), key: join(dir, 'tls/key.pem') });
    assert.deepEqual(config.auth, { kind: 'token', realm: 'https://auth.example/token', service: 'reg', issuer: 'iss', rootCertBundle: join(dir, 'bundle.pem'), jwksUrl: undefined });
    assert.deepEqual(config.warnings, []);
  });

  it('warns about keys that change nothing, naming each', () => {
    const config = load('version: 0.1\nstorage: {inmemory: {}, delete: {enabled: false}, redirect: {disable: false}}\nhttp: {addr: ":5000", secret: s3cret, host: "https://r.example"}\nredis: {addr: "localhost:6379"}\n');
    const warnings = (config.warnings ?? []).join('\n');
    for (const key of ['storage.delete.enabled', 'storage.redirect.disable', 'http.secret', 'http.host', 'redis (addr)']) {
      assert.match(warnings, new RegExp(`^${key.replace(/[.()]/g, '\\$&')}: `, 'm'), `no warning for ${key}`);
    }
  });

  it('refuses what Dockyard cannot honour, naming the key', () => {
    const base = 'version: 0.1\nstorage: {inmemory: {}}\n';
    refused(`${base}http: {tls: {certificate: c, key: k, clientcas: [ca.pem]}}\n`, /http\.tls\.clientcas: client certificate authentication is not supported/);
    refused(`${base}proxy: {remoteurl: "https://registry-1.docker.io"}\n`, /proxy\.remoteurl: pull-through cache/);
    refused('version: 0.1\nstorage: {oss: {accesskeyid: a}}\n', /storage\.oss\.accesskeyid: the oss storage driver is not available/);
    refused(`${base}auth: {silly: {realm: r, service: s}}\n`, /auth\.silly\.realm: the silly access controller/);
    refused(`${base}http: {prefix: /registry/}\n`, /http\.prefix: Dockyard serves \/v2\/ at the root/);
    refused('version: 0.2\n', /version: only version 0\.1 is understood/);
  });

  it('maps notifications.endpoints as distribution writes them (docs/notifications.md)', () => {
    const config = load(`version: 0.1
storage: {inmemory: {}}
notifications:
  events: {includereferences: true}
  endpoints:
    - name: alistener
      disabled: false
      url: https://my.listener.com/event
      headers: {Authorization: [Bearer <token>]}
      timeout: 500ms
      threshold: 5
      backoff: 1s
      ignoredmediatypes: [application/octet-stream]
      ignore: {mediatypes: [application/vnd.oci.image.index.v1+json], actions: [pull]}
    - {name: off, url: "http://x/e", disabled: true}
`);
    assert.deepEqual(config.notifications?.endpoints.map((e) => [e.name, e.url, e.headers, e.timeoutMs, e.threshold, e.backoffMs, e.ignoredMediaTypes, e.ignoredActions, e.disabled, e.secret]), [
      ['alistener', 'https://my.listener.com/event', { Authorization: ['Bearer <token>'] }, 500, 5, 1000, ['application/octet-stream', 'application/vnd.oci.image.index.v1+json'], ['pull'], false, null],
      ['off', 'http://x/e', {}, 5000, 5, 10000, [], [], true, null],
    ]);
    assert.match((config.warnings ?? []).join('\n'), /notifications \(events\.includereferences\): ignored/);
  });

  it('refuses a bad endpoint naming the key, also from REGISTRY_NOTIFICATIONS_ENDPOINTS', () => {
    const base = 'version: 0.1\nstorage: {inmemory: {}}\n';
    refused(`${base}notifications: {endpoints: [{name: a, url: "ftp://x/e"}]}\n`, /notifications\.endpoints\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/);
    refused(`${base}notifications: {endpoints: [{name: a, url: "http://x/e", timeout: soon}]}\n`, /notifications\.endpoints\[0\]\.timeout: expected a duration/);
    refused(`${base}notifications: {endpoints: [{name: a, url: "http://x/e"}, {name: a, url: "http://y/e"}]}\n`, /\[1\]\.name: expected a unique name/);
    refused(`${base}notifications: {endpoints: [{name: a, url: "http://x/e", retries: 3}]}\n`, /\[0\]\.retries: unknown key/);
    const env = { REGISTRY_NOTIFICATIONS_ENDPOINTS: '[{"name":"ci","url":"http://127.0.0.1:9/e","secret":"0123456789abcdef","repositories":"team/**"}]' };
    const config = load(base, env);
    assert.deepEqual(config.notifications?.endpoints.map((e) => [e.name, e.secret, e.repositoryPattern]), [['ci', '0123456789abcdef', 'team/**']]);
    refused(base, /REGISTRY_NOTIFICATIONS_ENDPOINTS\[0\]\.repositories: expected a repository pattern/, { REGISTRY_NOTIFICATIONS_ENDPOINTS: '- {name: ci, url: "http://x/", repositories: "a//b"}' });
  });

  it('suggests the nearest key for a misspelled one', () => {
    refused('version: 0.1\nstorage: {filesytem: {rootdirectory: /x}}\n', /storage\.filesytem\.rootdirectory: unknown key in a distribution config\.yml \(did you mean storage\.filesystem\.rootdirectory\?\)/);
    refused('version: 0.1\nhttp: {adr: ":5000"}\n', /http\.adr: unknown key .*did you mean http\.addr\?/);
  });

  it('names the distribution key (and the variable) when a mapped value is bad', () => {
    refused('version: 0.1\nhttp: {addr: "localhost"}\n', /invalid configuration http\.addr: expected host:port/);
    refused('version: 0.1\nstorage: {maintenance: {uploadpurging: {age: "a week"}}}\n', /storage\.maintenance\.uploadpurging\.age: expected a duration such as 168h/);
    refused('version: 0.1\nauth: {htpasswd: {realm: r}}\n', /auth\.htpasswd\.path \(REGISTRY_AUTH_HTPASSWD_PATH\): missing/);
  });

  it('lets the environment override the file as usual', () => {
    const config = load(DEBIAN_STOCK('/srv/registry', '/etc/h'), { REGISTRY_HTTP_ADDR: '127.0.0.1:6000', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/elsewhere' });
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 6000, tls: undefined });
    assert.deepEqual(config.storage, { driver: 'filesystem', rootDirectory: '/elsewhere' });
  });
});
