// An open registry (auth none) says so on stderr at every start, and `config check` says so
// too; a registry that asks for credentials prints no such line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConfigCheck } from '../../../services/config-check.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const root = mkdtempSync(join(tmpdir(), 'dockyard-open-warning-'));
after(() => rmSync(root, { recursive: true, force: true }));

const WARNING = /^WARNING: the registry has no authentication \(REGISTRY_AUTH=none\): anyone who can reach 127\.0\.0\.1:0 can push, overwrite and delete images/m;

/**
 * Starts `npm run registry`, waits until it answers /v2/ with `status`, stops it with SIGTERM
 * and returns what it wrote to stderr. The "stopping" log line proves the stop went through
 * the entry point's handler, so the start (and its warnings) had completed.
 */
async function stderrOfStart(env: Record<string, string>, status: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/registry/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', REGISTRY_HTTP_ADDR: '127.0.0.1:0', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"msg":"listening"/.test(stdout) ? /"url":"([^"]+)"/.exec(stdout) : null;
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`registry exited with ${code}: ${stderr}`)));
  });
  const response = await fetch(`${url}/v2/`);
  await response.body?.cancel();
  assert.equal(response.status, status);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /"msg":"stopping"/);
  return stderr;
}

describe('open registry warning', () => {
  it('npm run registry with auth none prints the warning on stderr at every start', async () => {
    const dataDir = join(root, 'open');
    for (let start = 0; start < 2; start++) assert.match(await stderrOfStart({ DOCKYARD_DATA_DIR: dataDir }, 200), WARNING);
  });

  it('a registry with htpasswd prints none', async () => {
    const htpasswd = join(root, 'htpasswd');
    writeFileSync(htpasswd, 'dave:$2y$05$AQRCUtq9J3Hagg.SqwEdc.YLkqTK6wihL1rBnOQIYTraQRNV7Uo1K\n');
    const stderr = await stderrOfStart({ DOCKYARD_DATA_DIR: join(root, 'closed'), REGISTRY_AUTH_HTPASSWD_PATH: htpasswd }, 401);
    assert.doesNotMatch(stderr, /WARNING/);
  });

  it('config check names the open registry', () => {
    const file = join(root, 'open.yml');
    writeFileSync(file, 'registry: {http: {addr: "127.0.0.1:0"}}\n');
    const out: string[] = [];
    assert.equal(runConfigCheck([file], {}, (line) => out.push(line), (line) => out.push(line)), 0);
    assert.match(out.join('\n'), /^ {2}WARNING: the registry has no authentication/m);
  });
});
