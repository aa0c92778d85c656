// Every validation error is a ConfigError that names the key at fault (environment name or
// YAML path) and says what was expected; unknown YAML keys and broken files are errors too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadAuthConfig, loadRegistryConfig, type Env } from '../../../shared/config/index.js';

let dir: string;
let counter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(text: string): string {
  const file = join(dir, `case-${++counter}.yml`);
  writeFileSync(file, text);
  return file;
}

/** Asserts `load` throws a ConfigError whose key is `key` and whose message names it and matches `hint`. */
function assertConfigError(load: () => unknown, key: string, hint: RegExp): void {
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    assert.ok(err.message.includes(key), `message names the key: ${err.message}`);
    assert.match(err.message, hint);
    return true;
  });
}

const registryEnvCases: Array<[Env, string, RegExp]> = [
  [{ REGISTRY_HTTP_ADDR: 'localhost' }, 'REGISTRY_HTTP_ADDR', /host:port/],
  [{ REGISTRY_HTTP_ADDR: '1.2.3.4:70000' }, 'REGISTRY_HTTP_ADDR', /host:port/],
  [{ REGISTRY_HTTP_TLS_CERTIFICATE: '/c.pem' }, 'REGISTRY_HTTP_TLS_KEY', /required when the TLS certificate is set/],
  [{ REGISTRY_HTTP_TLS_KEY: '/k.pem' }, 'REGISTRY_HTTP_TLS_CERTIFICATE', /required when the TLS key is set/],
  [{ REGISTRY_STORAGE: 'gcs' }, 'REGISTRY_STORAGE', /filesystem, s3, azure, swift, memory/],
  [{ REGISTRY_STORAGE: 'swift', REGISTRY_STORAGE_SWIFT_AUTHURL: 'http://k/auth/1.0', REGISTRY_STORAGE_SWIFT_USERNAME: 'u', REGISTRY_STORAGE_SWIFT_PASSWORD: 'p' }, 'REGISTRY_STORAGE_SWIFT_CONTAINER', /missing: required for swift storage/],
  [{ REGISTRY_STORAGE: 'swift', REGISTRY_STORAGE_SWIFT_USERNAME: 'u', REGISTRY_STORAGE_SWIFT_PASSWORD: 'p', REGISTRY_STORAGE_SWIFT_CONTAINER: 'c' }, 'REGISTRY_STORAGE_SWIFT_AUTHURL', /missing: required for swift storage/],
  [{ REGISTRY_STORAGE: 'swift', REGISTRY_STORAGE_SWIFT_AUTHURL: 'keystone:5000', REGISTRY_STORAGE_SWIFT_USERNAME: 'u', REGISTRY_STORAGE_SWIFT_PASSWORD: 'p', REGISTRY_STORAGE_SWIFT_CONTAINER: 'c' }, 'REGISTRY_STORAGE_SWIFT_AUTHURL', /http/],
  [{ REGISTRY_STORAGE: 'swift', REGISTRY_STORAGE_SWIFT_AUTHURL: 'http://k/v2.0', REGISTRY_STORAGE_SWIFT_AUTHVERSION: '2', REGISTRY_STORAGE_SWIFT_USERNAME: 'u', REGISTRY_STORAGE_SWIFT_PASSWORD: 'p', REGISTRY_STORAGE_SWIFT_CONTAINER: 'c' }, 'REGISTRY_STORAGE_SWIFT_AUTHVERSION', /1 or 3/],
  [{ REGISTRY_STORAGE: 'swift', REGISTRY_STORAGE_SWIFT_AUTHURL: 'http://k/auth/1.0', REGISTRY_STORAGE_SWIFT_USERNAME: 'u', REGISTRY_STORAGE_SWIFT_PASSWORD: 'p', REGISTRY_STORAGE_SWIFT_CONTAINER: 'c', REGISTRY_STORAGE_SWIFT_CHUNKSIZE: '1000' }, 'REGISTRY_STORAGE_SWIFT_CHUNKSIZE', /1048576/],
  [{ REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_BUCKET: 'b' }, 'REGISTRY_STORAGE_S3_REGION', /missing: required for s3 storage/],
  [{ REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_REGION: 'r' }, 'REGISTRY_STORAGE_S3_BUCKET', /missing: required for s3 storage/],
  [{ REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_REGION: 'r', REGISTRY_STORAGE_S3_BUCKET: 'b', REGISTRY_STORAGE_S3_CHUNKSIZE: '1048576' }, 'REGISTRY_STORAGE_S3_CHUNKSIZE', /from 5242880/],
  [{ REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_REGION: 'r', REGISTRY_STORAGE_S3_BUCKET: 'b', REGISTRY_STORAGE_S3_ACCESSKEY: 'a' }, 'REGISTRY_STORAGE_S3_SECRETKEY', /go together/],
  [{ REGISTRY_DATABASE_URL: 'mysql://x' }, 'REGISTRY_DATABASE_URL', /postgres:\/\/.*sqlite:PATH/],
  [{ REGISTRY_AUTH: 'ldap' }, 'REGISTRY_AUTH', /none, htpasswd, token/],
  [{ REGISTRY_AUTH: 'htpasswd' }, 'REGISTRY_AUTH_HTPASSWD_PATH', /missing: required for htpasswd auth/],
  [{ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_JWKS: 'http://a/j' }, 'REGISTRY_AUTH_TOKEN_REALM', /missing: required for token auth/],
  [{ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'http://a/token' }, 'REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE', /REGISTRY_AUTH_TOKEN_JWKS/],
  [{ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'auth:5001/token', REGISTRY_AUTH_TOKEN_JWKS: 'http://a/j' }, 'REGISTRY_AUTH_TOKEN_REALM', /http:\/\/ or https:\/\/ URL/],
  [{ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'http://a/token', REGISTRY_AUTH_TOKEN_JWKS: 'file:///etc/jwks' }, 'REGISTRY_AUTH_TOKEN_JWKS', /http:\/\/ or https:\/\/ URL/],
  [{ REGISTRY_READONLY: 'maybe' }, 'REGISTRY_READONLY', /true or false/],
  [{ REGISTRY_UPLOADS_PURGE_AFTER_SECONDS: '59' }, 'REGISTRY_UPLOADS_PURGE_AFTER_SECONDS', /integer >= 60/],
  [{ REGISTRY_MANIFEST_MAX_BYTES: '4MB' }, 'REGISTRY_MANIFEST_MAX_BYTES', /integer >= 1024/],
  [{ REGISTRY_PAGE_MAX_ENTRIES: '0' }, 'REGISTRY_PAGE_MAX_ENTRIES', /integer >= 1/],
  [{ REGISTRY_PAGE_MAX_ENTRIES: '99999999999999999999' }, 'REGISTRY_PAGE_MAX_ENTRIES', /integer >= 1/],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /fatal, error, warn, info, debug, trace, silent/],
];

const authEnvCases: Array<[Env, string, RegExp]> = [
  [{ AUTH_HTTP_ADDR: ':x' }, 'AUTH_HTTP_ADDR', /host:port/],
  [{ AUTH_HTTP_TLS_KEY: '/k.pem' }, 'AUTH_HTTP_TLS_CERTIFICATE', /required when the TLS key is set/],
  [{ AUTH_DATABASE_URL: 'postgres:/nohost' }, 'AUTH_DATABASE_URL', /postgres:\/\//],
  [{ AUTH_TOKEN_TTL_SECONDS: '10' }, 'AUTH_TOKEN_TTL_SECONDS', /integer >= 30/],
  [{ AUTH_REFRESH_TOKEN_IDLE_SECONDS: '-5' }, 'AUTH_REFRESH_TOKEN_IDLE_SECONDS', /integer >= 60/],
  [{ AUTH_BCRYPT_COST: '32' }, 'AUTH_BCRYPT_COST', /integer from 4 to 31/],
  [{ AUTH_BCRYPT_COST: '3' }, 'AUTH_BCRYPT_COST', /integer from 4 to 31/],
];

describe('environment errors name the variable', () => {
  for (const [env, key, hint] of registryEnvCases) {
    it(`registry: ${JSON.stringify(env)} → ${key}`, () => assertConfigError(() => loadRegistryConfig({ env }), key, hint));
  }
  for (const [env, key, hint] of authEnvCases) {
    it(`auth: ${JSON.stringify(env)} → ${key}`, () => assertConfigError(() => loadAuthConfig({ env }), key, hint));
  }
});

const registryYamlCases: Array<[string, string, RegExp]> = [
  ['registry: {http: {addr: 5000}}', 'registry.http.addr', /non-empty string/],
  ['registry: {http: {addr: "nope"}}', 'registry.http.addr', /host:port/],
  ['registry: {http: {tls: {key: k.pem}}}', 'registry.http.tls.certificate (REGISTRY_HTTP_TLS_CERTIFICATE)', /missing/],
  ['registry: {storage: {filesystem: {}, memory: {}}}', 'registry.storage', /exactly one of filesystem, s3, azure, swift, memory/],
  ['registry: {storage: {}}', 'registry.storage', /exactly one of filesystem, s3, azure, swift, memory/],
  ['registry: {storage: {redirect: {disable: false}}}', 'registry.storage', /exactly one of filesystem, s3, azure, swift, memory/],
  ['registry: {storage: {filesystem: {rootdirectory: ""}}}', 'registry.storage.filesystem.rootdirectory', /non-empty string/],
  ['registry: {database: {url: "redis://x"}}', 'registry.database.url', /postgres:\/\//],
  ['registry: {auth: {htpasswd: {realm: r}}}', 'registry.auth.htpasswd.path (REGISTRY_AUTH_HTPASSWD_PATH)', /missing: required for htpasswd/],
  ['registry: {auth: {token: {jwks: "http://a/j"}}}', 'registry.auth.token.realm (REGISTRY_AUTH_TOKEN_REALM)', /missing: required for token/],
  ['registry: {auth: {token: {realm: "http://a/t"}}}', 'registry.auth.token.rootcertbundle (REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE)', /registry\.auth\.token\.jwks \(REGISTRY_AUTH_TOKEN_JWKS\)/],
  ['registry: {auth: {token: {realm: [1], jwks: "http://a/j"}}}', 'registry.auth.token.realm', /non-empty string/],
  ['registry: {auth: {none: {}, token: {}}}', 'registry.auth', /exactly one of none, htpasswd, token/],
  ['registry: {auth: basic}', 'registry.auth', /none, htpasswd, token/],
  ['registry: {auth: {none: true}}', 'registry.auth.none', /no value/],
  ['registry: {readonly: "perhaps"}', 'registry.readonly', /true or false/],
  ['registry: {uploads: {purgeafterseconds: 1.5}}', 'registry.uploads.purgeafterseconds', /integer >= 60/],
  ['registry: {limits: {manifestmaxbytes: true}}', 'registry.limits.manifestmaxbytes', /integer >= 1024/],
  ['registry: {limits: 5}', 'registry.limits', /mapping with the keys manifestmaxbytes, pagemaxentries/],
  ['log: {level: 3}', 'log.level', /non-empty string/],
  ['datadir: {a: 1}', 'datadir', /non-empty string/],
];

const authYamlCases: Array<[string, string, RegExp]> = [
  ['auth: {http: {addr: "[::1]"}}', 'auth.http.addr', /host:port/],
  ['auth: {token: {ttlseconds: "five"}}', 'auth.token.ttlseconds', /integer >= 30/],
  ['auth: {token: {issuer: ""}}', 'auth.token.issuer', /non-empty string/],
  ['auth: {refreshtokens: {idleseconds: 0}}', 'auth.refreshtokens.idleseconds', /integer >= 60/],
  ['auth: {bcryptcost: 40}', 'auth.bcryptcost', /integer from 4 to 31/],
  ['auth: {keysdir: 12}', 'auth.keysdir', /non-empty string/],
];

describe('YAML errors name the path', () => {
  for (const [text, key, hint] of registryYamlCases) {
    it(`registry: ${text} → ${key}`, () => assertConfigError(() => loadRegistryConfig({ file: yamlFile(text), env: {} }), key, hint));
  }
  for (const [text, key, hint] of authYamlCases) {
    it(`auth: ${text} → ${key}`, () => assertConfigError(() => loadAuthConfig({ file: yamlFile(text), env: {} }), key, hint));
  }

  it('an env value that overrides a bad YAML value wins', () => {
    const file = yamlFile('registry: {http: {addr: "nope"}}');
    assert.equal(loadRegistryConfig({ file, env: { REGISTRY_HTTP_ADDR: ':5000' } }).http.port, 5000);
  });
});

describe('unknown keys', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['regsitry: {}', 'regsitry', /allowed at the top level: datadir, log, workers, registry, auth/],
    ['registry: {http: {adress: ":5000"}}', 'registry.http.adress', /allowed under registry.http: addr, tls/],
    ['registry: {storage: {gcs: {bucket: b}}}', 'registry.storage.gcs', /allowed under registry.storage: filesystem, s3, azure, swift, memory, redirect/],
    ['registry: {storage: {azure: {container: b, endpoint: e}}}', 'registry.storage.azure.endpoint', /allowed under registry.storage.azure: accountname, accountkey, container, realm, serviceurl, rootdirectory/],
    ['registry: {storage: {swift: {container: b, tenantname: t}}}', 'registry.storage.swift.tenantname', /allowed under registry.storage.swift: authurl, username, password, container, tenant/],
    ['registry: {storage: {s3: {bucket: b, endpoint: e}}}', 'registry.storage.s3.endpoint', /allowed under registry.storage.s3: region, regionendpoint, bucket/],
    ['registry: {auth: {token: {realm: "http://a", audience: x}}}', 'registry.auth.token.audience', /realm, service, issuer, rootcertbundle, jwks/],
    ['auth: {token: {TTLSeconds: 5}}', 'auth.token.TTLSeconds', /issuer, service, ttlseconds/],
    ['registry: {http: {tls: {certificate: a, key: b, ca: c}}}', 'registry.http.tls.ca', /certificate, key/],
  ];
  for (const [text, key, hint] of cases) {
    it(`${text} → ${key}`, () => {
      // A typo anywhere in the file stops either service.
      assertConfigError(() => loadRegistryConfig({ file: yamlFile(text), env: {} }), key, /unknown key/);
      assertConfigError(() => loadAuthConfig({ file: yamlFile(text), env: {} }), key, hint);
    });
  }
});

describe('the file itself', () => {
  it('missing file', () => {
    const file = join(dir, 'absent.yml');
    assertConfigError(() => loadRegistryConfig({ file, env: {} }), `file ${file}`, /no such file/);
  });

  it('invalid YAML reports the parser message with its line', () => {
    const file = yamlFile('registry:\n  http: {addr: ":5000"\n');
    assertConfigError(() => loadRegistryConfig({ file, env: {} }), `file ${file}`, /not valid YAML: .*line \d+/s);
  });

  it('duplicate keys are rejected', () => {
    const file = yamlFile('registry:\n  readonly: true\n  readonly: false\n');
    assertConfigError(() => loadRegistryConfig({ file, env: {} }), `file ${file}`, /not valid YAML/);
  });

  it('a top level that is not a mapping', () => {
    const file = yamlFile('- registry\n- auth\n');
    assertConfigError(() => loadRegistryConfig({ file, env: {} }), `file ${file}`, /YAML mapping/);
  });
});

describe('error message size', () => {
  it('cuts a huge bad value short', () => {
    const file = yamlFile(`registry: {http: {addr: "${'x'.repeat(5000)}"}}`);
    assert.throws(
      () => loadRegistryConfig({ file, env: {} }),
      (err: unknown) => err instanceof ConfigError && err.key === 'registry.http.addr' && err.message.length < 300,
    );
  });
});

describe('secrets in error messages', () => {
  it('a bad database URL is shown without its password', () => {
    assert.throws(
      () => loadAuthConfig({ env: { AUTH_DATABASE_URL: 'mysql://admin:hunter2@db/x' } }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('hunter2') && err.message.includes('admin:***@db'),
    );
  });
});
