// Which auth mode the registry runs: REGISTRY_AUTH when given, else the mode whose settings
// are present (as CNCF distribution derives it), else none with a loud warning. Settings of
// two modes, or of a mode REGISTRY_AUTH did not choose, stop the start naming them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadRegistryConfig, openRegistryWarning, type Env } from '../../../shared/config/index.js';
import { wiredRegistryEnv } from '../../../services/main.js';
import { loadAuthConfig } from '../../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-auth-inference-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const yaml = (text: string): string => {
  const file = join(dir, `c${count++}.yml`);
  writeFileSync(file, text);
  return file;
};

const HT = '/etc/dockyard/htpasswd';
const inferred: Array<[string, Env, string | undefined, string]> = [
  ['htpasswd path alone', { REGISTRY_AUTH_HTPASSWD_PATH: HT }, undefined, 'htpasswd'],
  ['htpasswd path in YAML alone', {}, `registry: {auth: {htpasswd: {path: ${HT}}}}`, 'htpasswd'],
  ['token realm and bundle alone', { REGISTRY_AUTH_TOKEN_REALM: 'https://a/token', REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: '/b.pem' }, undefined, 'token'],
  ['token realm and jwks alone', { REGISTRY_AUTH_TOKEN_REALM: 'https://a/token', REGISTRY_AUTH_TOKEN_JWKS: 'https://a/jwks' }, undefined, 'token'],
  ['nothing', {}, undefined, 'none'],
  ['REGISTRY_AUTH=none alone', { REGISTRY_AUTH: 'none' }, undefined, 'none'],
  ['REGISTRY_AUTH=htpasswd with its path', { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: HT }, undefined, 'htpasswd'],
  ['REGISTRY_AUTH=htpasswd switching a YAML token section', { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: HT }, 'registry: {auth: {token: {realm: "https://a/t", jwks: "https://a/j"}}}', 'htpasswd'],
];

const conflicts: Array<[string, Env, string | undefined, RegExp]> = [
  ['REGISTRY_AUTH=none with an htpasswd path', { REGISTRY_AUTH: 'none', REGISTRY_AUTH_HTPASSWD_PATH: HT }, undefined, /auth is none but REGISTRY_AUTH_HTPASSWD_PATH is set/],
  ['htpasswd and token settings', { REGISTRY_AUTH_HTPASSWD_PATH: HT, REGISTRY_AUTH_TOKEN_REALM: 'https://a/token' }, undefined, /htpasswd \(REGISTRY_AUTH_HTPASSWD_PATH\) and token \(REGISTRY_AUTH_TOKEN_REALM\)/],
  ['REGISTRY_AUTH=token with an htpasswd realm', { REGISTRY_AUTH: 'token', REGISTRY_AUTH_HTPASSWD_REALM: 'r', REGISTRY_AUTH_TOKEN_REALM: 'https://a/t', REGISTRY_AUTH_TOKEN_JWKS: 'https://a/j' }, undefined, /auth is token but REGISTRY_AUTH_HTPASSWD_REALM is set/],
  ['REGISTRY_AUTH=htpasswd with a token issuer', { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: HT, REGISTRY_AUTH_TOKEN_ISSUER: 'x' }, undefined, /auth is htpasswd but REGISTRY_AUTH_TOKEN_ISSUER is set/],
  ['YAML htpasswd with a token jwks from the environment', { REGISTRY_AUTH_TOKEN_JWKS: 'https://a/j' }, `registry: {auth: {htpasswd: {path: ${HT}}}}`, /auth is htpasswd but registry\.auth\.token\.jwks \(REGISTRY_AUTH_TOKEN_JWKS\) is set/],
  ['REGISTRY_AUTH=none over a YAML htpasswd section', { REGISTRY_AUTH: 'none' }, `registry: {auth: {htpasswd: {path: ${HT}}}}`, /auth is none but registry\.auth\.htpasswd\.path \(REGISTRY_AUTH_HTPASSWD_PATH\) is set/],
  ['YAML auth none with an htpasswd path from the environment', { REGISTRY_AUTH_HTPASSWD_PATH: HT }, 'registry: {auth: none}', /auth is none but registry\.auth\.htpasswd\.path \(REGISTRY_AUTH_HTPASSWD_PATH\) is set/],
];

describe('registry auth mode inference', () => {
  for (const [name, env, text, kind] of inferred) {
    it(`${name} → ${kind}`, () => {
      const config = loadRegistryConfig({ env, file: text === undefined ? undefined : yaml(text) });
      assert.equal(config.auth.kind, kind);
      if (kind === 'htpasswd') assert.deepEqual(config.auth, { kind, path: HT, realm: 'Registry Realm' });
    });
  }
  for (const [name, env, text, message] of conflicts) {
    it(`${name} stops the start naming the settings`, () => {
      assert.throws(
        () => loadRegistryConfig({ env, file: text === undefined ? undefined : yaml(text) }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it('an open registry gets a warning; a protected one does not', () => {
    const open = loadRegistryConfig({ env: { REGISTRY_HTTP_ADDR: ':5000' } });
    assert.match(openRegistryWarning(open) ?? '', /^WARNING: the registry has no authentication \(REGISTRY_AUTH=none\): anyone who can reach 0\.0\.0\.0:5000 can push/);
    assert.equal(openRegistryWarning(loadRegistryConfig({ env: { REGISTRY_AUTH_HTPASSWD_PATH: HT } })), undefined);
  });
});

describe('npm start wiring', () => {
  const auth = loadAuthConfig({ env: {} });
  it('wires token auth to the in-process auth service when nothing is set', () => {
    const wired = wiredRegistryEnv(undefined, {}, auth, 'http://127.0.0.1:5001');
    assert.equal(loadRegistryConfig({ env: wired }).auth.kind, 'token');
  });
  it('leaves htpasswd settings alone: they select htpasswd', () => {
    const env = { REGISTRY_AUTH_HTPASSWD_PATH: HT };
    const wired = wiredRegistryEnv(undefined, env, auth, 'http://127.0.0.1:5001');
    assert.equal(loadRegistryConfig({ env: wired }).auth.kind, 'htpasswd');
  });
});
