// `npm run admin -- config check [FILE]`: exit 0 and "configuration OK" for a good
// configuration, exit 2 and the error naming the key for a bad one (YAML or environment),
// including the first-admin and login-throttling settings the table now holds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliIo } from '../../../services/auth/cli.js';
import { loadAuthConfig } from '../../../shared/config/index.js';
import { throttlePolicyFromEnv } from '../../../services/auth/throttle.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-cli-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function admin(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await runCli(args, { DOCKYARD_DATA_DIR: join(dir, 'data'), ...env }, io);
  return { code, out, err };
}

describe('config check', () => {
  it('accepts a good file with the summary of both services', async () => {
    const file = yamlFile('good.yml', 'registry:\n  auth: {htpasswd: {path: good.yml}}\nauth:\n  login: {maxfailures: 5, windowseconds: 60}\n');
    const result = await admin(['config', 'check', file]);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, new RegExp(`^configuration OK: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    assert.match(result.out, /registry: http:\/\/127\.0\.0\.1:5000, .* auth htpasswd/);
    assert.match(result.out, /auth: http:\/\/127\.0\.0\.1:5001/);
  });

  it('checks the environment alone when no file is named', async () => {
    const result = await admin(['config', 'check'], { REGISTRY_HTTP_ADDR: ':5443' });
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /configuration OK: environment only/);
    assert.match(result.out, /registry: http:\/\/0\.0\.0\.0:5443/);
  });

  it('takes the file from --config and from DOCKYARD_CONFIG', async () => {
    const file = yamlFile('empty.yml', '');
    assert.equal((await admin(['config', 'check', '--config', file])).code, 0);
    assert.match((await admin(['config', 'check'], { DOCKYARD_CONFIG: file })).out, /configuration OK: .*empty\.yml/);
  });

  const bad: Array<[string, string, Record<string, string>, RegExp]> = [
    ['an unknown YAML key', 'auth:\n  login: {maxfailure: 5}\n', {}, /invalid configuration auth\.login\.maxfailure: unknown key \(allowed under auth\.login: maxfailures, maxfailuresperaddress, maxfailuresperaccount, windowseconds\)/],
    ['a bad YAML value', 'auth:\n  login: {windowseconds: soon}\n', {}, /invalid configuration auth\.login\.windowseconds: expected an integer >= 1, got "soon"/],
    ['a bad environment value', '', { AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '0' }, /invalid configuration AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: expected an integer >= 1, got "0"/],
    ['a numeric admin password in YAML', 'auth:\n  admin: {password: 12345678}\n', {}, /invalid configuration auth\.admin\.password: expected a non-empty string/],
    ['a missing TLS key', '', { REGISTRY_HTTP_TLS_CERTIFICATE: '/nonexistent.crt' }, /invalid configuration registry\.http\.tls\.key \(REGISTRY_HTTP_TLS_KEY\): missing: required when the TLS certificate is set/],
    ['an unreadable TLS certificate', '', { AUTH_HTTP_TLS_CERTIFICATE: '/nonexistent.crt', AUTH_HTTP_TLS_KEY: '/nonexistent.key' }, /auth\.http\.tls\.certificate \(AUTH_HTTP_TLS_CERTIFICATE\).*no such file/],
  ];
  for (const [name, yaml, env, expected] of bad) {
    it(`exits 2 naming the key for ${name}`, async () => {
      const file = yamlFile(`${name.replace(/\W+/g, '-')}.yml`, yaml);
      const result = await admin(['config', 'check', file], env);
      assert.equal(result.code, 2, result.out);
      assert.match(result.err, expected);
      assert.doesNotMatch(result.out, /configuration OK/);
    });
  }

  it('rejects a file given twice and an unknown subcommand as usage errors', async () => {
    const file = yamlFile('twice.yml', '');
    const twice = await admin(['config', 'check', file, '--config', file]);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /either as FILE or as --config FILE/);
    const unknown = await admin(['config', 'validate', file]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown config command validate \(config commands: check\)/);
  });

  it('exits 2 from a real process, and 0 once the file is fixed', () => {
    const file = yamlFile('process.yml', 'registry:\n  http: {addr: "localhost"}\n');
    const check = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', 'config', 'check', file], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', DOCKYARD_DATA_DIR: join(dir, 'data') },
      });
    const failed = check();
    assert.equal(failed.status, 2);
    assert.match(failed.stderr, /invalid configuration registry\.http\.addr: expected host:port/);
    writeFileSync(file, 'registry:\n  http: {addr: "localhost:5000"}\n');
    const fixed = check();
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.match(fixed.stdout, /^configuration OK/);
  });
});

describe('first-admin and login-throttling settings', () => {
  it('come from YAML, with the environment overriding, and default from the table', () => {
    const file = yamlFile('settings.yml', 'auth:\n  admin: {user: root}\n  login: {maxfailures: 3, windowseconds: 60}\n');
    const config = loadAuthConfig({ file, env: { DOCKYARD_ADMIN_PASSWORD: 'from-the-environment', AUTH_LOGIN_WINDOW_SECONDS: '120' } });
    assert.deepEqual(config.admin, { user: 'root', password: 'from-the-environment' });
    assert.deepEqual(config.login, { maxFailures: 3, addressMaxFailures: 50, accountMaxFailures: 30, windowSeconds: 120 });
    const defaults = loadAuthConfig({ env: {} });
    assert.deepEqual(defaults.admin, { user: 'admin', password: undefined });
    assert.deepEqual(defaults.login, { maxFailures: 10, addressMaxFailures: 50, accountMaxFailures: 30, windowSeconds: 300 });
  });

  it('read the same way for configurations built by hand (throttlePolicyFromEnv)', () => {
    assert.deepEqual(throttlePolicyFromEnv({ AUTH_LOGIN_MAX_FAILURES: '4' }), { maxFailures: 4, addressMaxFailures: 50, accountMaxFailures: 30, windowSeconds: 300 });
    assert.throws(() => throttlePolicyFromEnv({ AUTH_LOGIN_WINDOW_SECONDS: '-1' }), /AUTH_LOGIN_WINDOW_SECONDS: expected an integer >= 1/);
  });
});
