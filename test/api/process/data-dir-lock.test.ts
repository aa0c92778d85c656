// One data directory is served by one `npm start` (services/main.ts): a second start on it is
// refused with a message naming the directory and the pid holding it; a holder killed with
// SIGKILL does not leave it stuck; the registry and the auth service run side by side on one
// directory as separate processes; a cluster's primary (not a worker) holds the lock.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../e2e/harness/ports.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const root = mkdtempSync(join(tmpdir(), 'dockyard-data-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

const running: Run[] = [];
afterEach(async () => {
  for (const run of running.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await run.exited;
  }
});

function launch(script: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', DOCKYARD_ADMIN_PASSWORD: 'correct-horse-battery', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run = { child, output: () => output, exited };
  running.push(run);
  return run;
}

/** The exit code of a start that must be refused; rejects if it serves instead. */
async function refused(run: Run): Promise<number | null> {
  return Promise.race([run.exited, printed(run, /"msg":"listening"|Dockyard is running/).then(() => Promise.reject(new Error(`a second process serves the same data directory: ${run.output()}`)))]);
}

/** Resolves once `text` was printed; rejects when the process exits first. */
async function printed(run: Run, text: RegExp): Promise<void> {
  while (!text.test(run.output())) {
    const exit = await Promise.race([run.exited.then((code) => ({ code })), new Promise<null>((r) => setTimeout(() => r(null), 50))]);
    if (exit && !text.test(run.output())) throw new Error(`exited with ${exit.code} before printing ${text}: ${run.output()}`);
  }
}

const BANNER = /Dockyard is running/;
const startEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  DOCKYARD_DATA_DIR: dataDir,
  REGISTRY_HTTP_ADDR: '127.0.0.1:0',
  AUTH_HTTP_ADDR: '127.0.0.1:0',
  WEB_HTTP_ADDR: '127.0.0.1:0',
  ...extra,
});

describe('data directory lock', () => {
  it('refuses a second npm start on the same directory, naming it and the holding pid; a SIGKILLed holder does not block the next start', async () => {
    const dataDir = join(root, 'start');
    const first = launch('services/main.ts', startEnv(dataDir));
    await printed(first, BANNER);

    const second = launch('services/main.ts', startEnv(dataDir));
    assert.equal(await refused(second), 1, second.output());
    assert.match(second.output(), new RegExp(`data directory ${dataDir} is already in use by process ${first.child.pid}\\b`));
    assert.doesNotMatch(second.output(), BANNER);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = launch('services/main.ts', startEnv(dataDir));
    await printed(third, BANNER);
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'registry', 'registry.lock'), 'utf8')).pid, third.child.pid);
    // A clean stop releases both locks.
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0, third.output());
    assert.throws(() => readFileSync(join(dataDir, 'auth', 'auth.lock')), /ENOENT/);
    assert.throws(() => readFileSync(join(dataDir, 'registry', 'registry.lock')), /ENOENT/);
  });

  it('runs npm run registry and npm run auth side by side on one directory, but not two registries', async () => {
    const dataDir = join(root, 'split');
    const auth = launch('services/auth/main.ts', { DOCKYARD_DATA_DIR: dataDir, AUTH_HTTP_ADDR: '127.0.0.1:0', LOG_LEVEL: 'info' });
    const registry = launch('services/registry/main.ts', { DOCKYARD_DATA_DIR: dataDir, REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_AUTH: 'none', LOG_LEVEL: 'info' });
    await printed(auth, /"msg":"listening"/);
    await printed(registry, /"msg":"listening"/);

    const again = launch('services/registry/main.ts', { DOCKYARD_DATA_DIR: dataDir, REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_AUTH: 'none' });
    assert.equal(await refused(again), 1, again.output());
    assert.match(again.output(), new RegExp(`data directory ${dataDir} is already in use by process ${registry.child.pid}\\b`));
  });

  it('in a cluster (DOCKYARD_WORKERS=2) the primary holds the lock', async () => {
    const dataDir = join(root, 'cluster');
    const cluster = launch('services/main.ts', startEnv(dataDir, { DOCKYARD_WORKERS: '2', REGISTRY_HTTP_ADDR: `127.0.0.1:${await freePort()}` }));
    await printed(cluster, BANNER);
    for (const service of ['auth', 'registry']) {
      assert.equal(JSON.parse(readFileSync(join(dataDir, service, `${service}.lock`), 'utf8')).pid, cluster.child.pid, service);
    }
    const second = launch('services/main.ts', startEnv(dataDir));
    assert.equal(await refused(second), 1, second.output());
    assert.match(second.output(), new RegExp(`in use by process ${cluster.child.pid}\\b`));
  });
});
