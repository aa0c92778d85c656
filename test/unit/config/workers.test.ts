// DOCKYARD_WORKERS / `workers`: a count from 1 to 64 or `auto`, one value for both services,
// and refused where workers would each hold their own copy of the data (memory storage,
// an in-memory SQLite database).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadAuthConfig, loadRegistryConfig, type Env } from '../../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-workers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base: Env = { DOCKYARD_DATA_DIR: dir };

function assertRefused(load: () => unknown, key: string, hint: RegExp): void {
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    assert.match(err.message, hint);
    return true;
  });
}

describe('workers setting', () => {
  it('defaults to 1 for both services', () => {
    assert.equal(loadRegistryConfig({ env: base }).workers, 1);
    assert.equal(loadAuthConfig({ env: base }).workers, 1);
  });

  it('takes a count from the environment or the file, the environment winning', () => {
    const file = join(dir, 'workers.yml');
    writeFileSync(file, 'workers: 3\n');
    assert.equal(loadRegistryConfig({ file, env: base }).workers, 3);
    assert.equal(loadAuthConfig({ file, env: base }).workers, 3);
    assert.equal(loadRegistryConfig({ file, env: { ...base, DOCKYARD_WORKERS: '2' } }).workers, 2);
  });

  it('reads auto as one worker per available CPU', () => {
    for (const word of ['auto', 'AUTO', ' auto ']) {
      assert.equal(loadRegistryConfig({ env: { ...base, DOCKYARD_WORKERS: word } }).workers, availableParallelism());
    }
  });

  it('refuses anything but 1 to 64 or auto, naming the key', () => {
    for (const value of ['0', '65', '1.5', '-2', 'many', 'true']) {
      assertRefused(() => loadAuthConfig({ env: { ...base, DOCKYARD_WORKERS: value } }), 'DOCKYARD_WORKERS', /expected an integer from 1 to 64 or auto/);
    }
    const file = join(dir, 'bad-workers.yml');
    writeFileSync(file, 'workers: 0\n');
    assertRefused(() => loadRegistryConfig({ file, env: base }), 'workers', /an integer from 1 to 64 or auto/);
  });

  it('refuses state that would split into one copy per worker', () => {
    const two = { ...base, DOCKYARD_WORKERS: '2' };
    assertRefused(() => loadRegistryConfig({ env: { ...two, REGISTRY_STORAGE: 'memory' } }), 'REGISTRY_STORAGE', /memory storage cannot be shared by 2 workers/);
    assertRefused(() => loadRegistryConfig({ env: { ...two, REGISTRY_DATABASE_URL: 'sqlite::memory:' } }), 'REGISTRY_DATABASE_URL', /in-memory database cannot be shared/);
    assertRefused(() => loadAuthConfig({ env: { ...two, AUTH_DATABASE_URL: 'sqlite::memory:' } }), 'AUTH_DATABASE_URL', /in-memory database cannot be shared/);
    assert.equal(loadRegistryConfig({ env: { ...base, REGISTRY_STORAGE: 'memory' } }).storage.driver, 'memory');
  });
});
