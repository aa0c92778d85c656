// services/config-check.ts as an operator runs it: a real process, exit code and output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runConfigCheck } from '../../../services/config-check.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(repoRoot, 'services', 'config-check.ts');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-config-check-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the checker in a child process with only the given environment (plus PATH). */
function check(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('config-check', () => {
  it('accepts a valid file and prints a summary without the database password', () => {
    const file = join(dir, 'good.yml');
    writeFileSync(
      file,
      [
        'registry:',
        '  auth: {token: {realm: "http://localhost:5001/token", jwks: "http://auth:5001/.well-known/jwks.json"}}',
        'auth:',
        '  database: {url: "postgres://dock:s3cret@db:5432/dock"}',
      ].join('\n'),
    );
    const result = check([file]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /configuration OK/);
    assert.match(result.stdout, /auth token \(realm http:\/\/localhost:5001\/token/);
    assert.match(result.stdout, /postgres postgres:\/\/dock:\*\*\*@db:5432\/dock/);
    assert.doesNotMatch(result.stdout, /s3cret/);
  });

  it('fails with the message naming the bad key, from --config', () => {
    const file = join(dir, 'typo.yml');
    writeFileSync(file, 'auth:\n  bcryptcots: 12\n');
    const result = check(['--config', file]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /invalid configuration auth\.bcryptcots: unknown key/);
  });

  it('applies environment overrides the way the services do', () => {
    const file = join(dir, 'plain.yml');
    writeFileSync(file, 'registry: {readonly: true}\n');
    const result = check([file], { REGISTRY_AUTH: 'htpasswd' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /registry\.auth\.htpasswd\.path \(REGISTRY_AUTH_HTPASSWD_PATH\): missing/);
  });

  it('checks that the files the configuration names can be read', () => {
    const file = join(dir, 'files.yml');
    writeFileSync(file, 'registry:\n  auth: {htpasswd: {path: missing.htpasswd}}\n');
    const result = check([file]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /registry\.auth\.htpasswd\.path \(REGISTRY_AUTH_HTPASSWD_PATH\).*cannot read .*missing\.htpasswd \(ENOENT\)/);
  });

  it('takes the file from DOCKYARD_CONFIG and explains usage without one', async () => {
    const file = join(dir, 'empty.yml');
    writeFileSync(file, '');
    assert.equal(check([], { DOCKYARD_CONFIG: file }).status, 0);
    const lines: string[] = [];
    assert.equal(await runConfigCheck([], {}, () => undefined, (line) => lines.push(line)), 1);
    assert.match(lines.join('\n'), /usage: config-check FILE/);
  });
});
