// Precedence of configuration sources: defaults < YAML file < environment, for both services.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  authConfigFromEnv,
  configFileFrom,
  ConfigError,
  loadAuthConfig,
  loadRegistryConfig,
  registryConfigFromEnv,
} from '../../../shared/config/index.js';

let dir: string;
let file: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-config-'));
  file = join(dir, 'dockyard.yml');
  writeFileSync(
    file,
    [
      'datadir: state',
      'log: {level: debug}',
      'registry:',
      '  http: {addr: ":6000"}',
      '  storage: {filesystem: {rootdirectory: blobs}}',
      '  auth:',
      '    token: {realm: "https://reg.example/token", service: yaml-svc, rootcertbundle: certs/bundle.pem}',
      '  readonly: true',
      '  uploads: {purgeafterseconds: 3600}',
      '  limits: {manifestmaxbytes: 2048, pagemaxentries: 50}',
      'auth:',
      '  http: {addr: "127.0.0.1:6001"}',
      '  database: {url: "postgres://u:p@db:5432/dock"}',
      '  token: {issuer: yaml-iss, ttlseconds: 600}',
      '  bcryptcost: 12',
      '',
    ].join('\n'),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('defaults', () => {
  it('match the historical env-only defaults', () => {
    const registry = registryConfigFromEnv({});
    assert.deepEqual(registry.http, { host: '127.0.0.1', port: 5000, tls: undefined });
    assert.equal(registry.dataDir, resolve('./data'));
    assert.deepEqual(registry.storage, { driver: 'filesystem', rootDirectory: resolve('data/registry/blobs') });
    assert.deepEqual(registry.database, { client: 'sqlite', filename: resolve('data/registry/registry.sqlite') });
    assert.deepEqual(registry.auth, { kind: 'none' });
    assert.equal(registry.readOnly, false);
    assert.deepEqual(registry.uploads, { purgeAfterSeconds: 604800 });
    assert.deepEqual(registry.limits, { manifestMaxBytes: 4194304, pageMaxEntries: 1000 });
    assert.deepEqual(registry.log, { level: 'info' });

    const auth = authConfigFromEnv({});
    assert.deepEqual(auth.http, { host: '127.0.0.1', port: 5001, tls: undefined });
    assert.deepEqual(auth.database, { client: 'sqlite', filename: resolve('data/auth/auth.sqlite') });
    assert.deepEqual(auth.token, { issuer: 'dockyard-auth', service: 'dockyard', ttlSeconds: 300 });
    assert.deepEqual(auth.refreshTokens, { idleSeconds: 2592000 });
    assert.equal(auth.keysDir, resolve('data/auth/keys'));
    assert.equal(auth.bcryptCost, 10);
  });

  it('derive paths from the data directory', () => {
    const registry = registryConfigFromEnv({ DOCKYARD_DATA_DIR: '/srv/dock' });
    assert.deepEqual(registry.storage, { driver: 'filesystem', rootDirectory: '/srv/dock/registry/blobs' });
    assert.deepEqual(registry.database, { client: 'sqlite', filename: '/srv/dock/registry/registry.sqlite' });
    assert.equal(authConfigFromEnv({ DOCKYARD_DATA_DIR: '/srv/dock' }).keysDir, '/srv/dock/auth/keys');
  });
});

describe('YAML file', () => {
  it('overrides defaults, with relative paths resolved against the file directory', () => {
    const registry = loadRegistryConfig({ file, env: {} });
    assert.deepEqual(registry.http, { host: '0.0.0.0', port: 6000, tls: undefined });
    assert.equal(registry.dataDir, join(dir, 'state'));
    assert.deepEqual(registry.storage, { driver: 'filesystem', rootDirectory: join(dir, 'blobs') });
    assert.deepEqual(registry.database, { client: 'sqlite', filename: join(dir, 'state/registry/registry.sqlite') });
    assert.deepEqual(registry.auth, {
      kind: 'token',
      realm: 'https://reg.example/token',
      service: 'yaml-svc',
      issuer: 'dockyard-auth',
      rootCertBundle: join(dir, 'certs/bundle.pem'),
      jwksUrl: undefined,
    });
    assert.equal(registry.readOnly, true);
    assert.equal(registry.uploads.purgeAfterSeconds, 3600);
    assert.deepEqual(registry.limits, { manifestMaxBytes: 2048, pageMaxEntries: 50 });
    assert.deepEqual(registry.log, { level: 'debug' });
  });

  it('feeds the auth section to the auth service', () => {
    const auth = loadAuthConfig({ file, env: {} });
    assert.deepEqual(auth.http, { host: '127.0.0.1', port: 6001, tls: undefined });
    assert.deepEqual(auth.database, { client: 'pg', connection: 'postgres://u:p@db:5432/dock' });
    assert.deepEqual(auth.token, { issuer: 'yaml-iss', service: 'dockyard', ttlSeconds: 600 });
    assert.equal(auth.bcryptCost, 12);
    assert.equal(auth.keysDir, join(dir, 'state/auth/keys'));
  });

  it('is found through DOCKYARD_CONFIG when no file is passed', () => {
    assert.equal(loadRegistryConfig({ env: { DOCKYARD_CONFIG: file } }).http.port, 6000);
  });

  it('selector may be a bare word', () => {
    const bare = join(dir, 'bare.yml');
    writeFileSync(bare, 'registry:\n  auth: none\n  storage: memory\n');
    const registry = loadRegistryConfig({ file: bare, env: {} });
    assert.deepEqual(registry.auth, { kind: 'none' });
    assert.deepEqual(registry.storage, { driver: 'memory' });
  });

  it('an empty file means all defaults', () => {
    const empty = join(dir, 'empty.yml');
    writeFileSync(empty, '# nothing set\n');
    assert.deepEqual(loadRegistryConfig({ file: empty, env: {} }), registryConfigFromEnv({}));
  });
});

describe('environment', () => {
  it('overrides YAML, with relative paths resolved against the working directory', () => {
    const env = {
      REGISTRY_HTTP_ADDR: '[::1]:7000',
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: 'env-blobs',
      REGISTRY_AUTH_TOKEN_SERVICE: 'env-svc',
      REGISTRY_AUTH_TOKEN_JWKS: 'http://auth:5001/.well-known/jwks.json',
      REGISTRY_READONLY: 'off',
      REGISTRY_PAGE_MAX_ENTRIES: '7',
      LOG_LEVEL: 'warn',
    };
    const registry = loadRegistryConfig({ file, env });
    assert.deepEqual(registry.http, { host: '::1', port: 7000, tls: undefined });
    assert.deepEqual(registry.storage, { driver: 'filesystem', rootDirectory: resolve('env-blobs') });
    assert.equal(registry.auth.kind, 'token');
    if (registry.auth.kind !== 'token') return;
    assert.equal(registry.auth.service, 'env-svc');
    assert.equal(registry.auth.realm, 'https://reg.example/token', 'YAML value kept where env is silent');
    assert.equal(registry.auth.jwksUrl, 'http://auth:5001/.well-known/jwks.json');
    assert.equal(registry.readOnly, false);
    assert.equal(registry.limits.pageMaxEntries, 7);
    assert.equal(registry.limits.manifestMaxBytes, 2048);
    assert.deepEqual(registry.log, { level: 'warn' });
  });

  it('an empty variable counts as unset', () => {
    const registry = loadRegistryConfig({ file, env: { REGISTRY_HTTP_ADDR: '', REGISTRY_READONLY: '' } });
    assert.equal(registry.http.port, 6000);
    assert.equal(registry.readOnly, true);
  });

  it('REGISTRY_AUTH switches the kind chosen in YAML', () => {
    const registry = loadRegistryConfig({ file, env: { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: '/etc/htpasswd' } });
    assert.deepEqual(registry.auth, { kind: 'htpasswd', path: '/etc/htpasswd', realm: 'Registry Realm' });
  });

  it('sets TLS, databases and the auth service the same way', () => {
    const env = {
      REGISTRY_HTTP_TLS_CERTIFICATE: '/tls/r.crt',
      REGISTRY_HTTP_TLS_KEY: '/tls/r.key',
      REGISTRY_DATABASE_URL: 'sqlite:/tmp/reg.sqlite',
      AUTH_DATABASE_URL: 'postgresql://a@h/d',
      AUTH_TOKEN_TTL_SECONDS: '120',
      AUTH_KEYS_DIR: '/keys',
    };
    const registry = loadRegistryConfig({ file, env });
    assert.deepEqual(registry.http.tls, { certificate: '/tls/r.crt', key: '/tls/r.key' });
    assert.deepEqual(registry.database, { client: 'sqlite', filename: '/tmp/reg.sqlite' });
    const auth = loadAuthConfig({ file, env });
    assert.deepEqual(auth.database, { client: 'pg', connection: 'postgresql://a@h/d' });
    assert.equal(auth.token.ttlSeconds, 120);
    assert.equal(auth.token.issuer, 'yaml-iss');
    assert.equal(auth.keysDir, '/keys');
  });
});

describe('configFileFrom', () => {
  it('takes --config FILE, --config=FILE, then DOCKYARD_CONFIG', () => {
    assert.equal(configFileFrom(['--config', 'a.yml'], { DOCKYARD_CONFIG: 'b.yml' }), 'a.yml');
    assert.equal(configFileFrom(['serve', '--config=c.yml'], {}), 'c.yml');
    assert.equal(configFileFrom([], { DOCKYARD_CONFIG: 'b.yml' }), 'b.yml');
    assert.equal(configFileFrom([], {}), undefined);
  });

  it('rejects --config without a value', () => {
    assert.throws(() => configFileFrom(['--config'], {}), (err: unknown) => err instanceof ConfigError && err.key === '--config');
    assert.throws(() => configFileFrom(['--config', '--other'], {}), ConfigError);
    assert.throws(() => configFileFrom(['--config='], {}), ConfigError);
  });
});
