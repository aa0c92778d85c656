// An open registry (auth none) says so on stderr at every start, and `config check` says so
// too; a registry that asks for credentials prints no such line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runConfigCheck } from '../../../services/config-check.js';
import { runUntilServing } from './service-run.js';

const root = mkdtempSync(join(tmpdir(), 'dockyard-open-warning-'));
after(() => rmSync(root, { recursive: true, force: true }));

const WARNING = /^WARNING: the registry has no authentication \(REGISTRY_AUTH=none\): anyone who can reach 127\.0\.0\.1:0 can push, overwrite and delete images/m;

/** Starts `npm run registry` until it answers /v2/ with `status`; returns its stderr. */
async function stderrOfStart(env: Record<string, string>, status: number): Promise<string> {
  return (await runUntilServing('services/registry/main.ts', { REGISTRY_HTTP_ADDR: '127.0.0.1:0', ...env }, '/v2/', status)).stderr;
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

  it('config check names the open registry', async () => {
    const file = join(root, 'open.yml');
    writeFileSync(file, 'registry: {http: {addr: "127.0.0.1:0"}}\n');
    const out: string[] = [];
    assert.equal(await runConfigCheck([file], {}, (line) => out.push(line), (line) => out.push(line)), 0);
    assert.match(out.join('\n'), /^ {2}WARNING: the registry has no authentication/m);
  });
});
