// Files that hold secrets are the owner's alone: a fresh `npm run auth` / `npm run registry`
// creates the data directory 0700 and the SQLite databases (with their -wal/-shm files) and
// signing keys 0600, even under the common umask 022; a later start on files an operator
// loosened warns on stderr, naming each one.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runUntilServing } from './service-run.js';

const root = mkdtempSync(join(tmpdir(), 'dockyard-file-modes-'));
after(() => rmSync(root, { recursive: true, force: true }));
const mode = (path: string): number => statSync(path).mode & 0o777;
const octal = (value: number): string => value.toString(8);

const authStart = (dataDir: string, whileServing?: () => void) =>
  runUntilServing('services/auth/main.ts', { DOCKYARD_DATA_DIR: dataDir, AUTH_HTTP_ADDR: '127.0.0.1:0', DOCKYARD_ADMIN_PASSWORD: 'correct-horse-battery' }, '/healthz', 200, whileServing);
const registryStart = (dataDir: string, whileServing?: () => void) =>
  runUntilServing('services/registry/main.ts', { DOCKYARD_DATA_DIR: dataDir, REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_AUTH: 'none' }, '/v2/', 200, whileServing);

/** Asserts the modes of a SQLite database and its -wal/-shm files (which exist while it is open). */
function assertDatabasePrivate(db: string): void {
  for (const file of [db, `${db}-wal`, `${db}-shm`]) assert.equal(octal(mode(file)), '600', file);
}

describe('owner-only files', () => {
  const previous = process.umask(0o022);
  after(() => process.umask(previous));

  it('auth: data directory, database (with -wal/-shm) and keys are created owner-only; loosened ones are named at the next start', async () => {
    const dataDir = join(root, 'auth-data');
    const db = join(dataDir, 'auth', 'auth.sqlite');
    const first = await authStart(dataDir, () => assertDatabasePrivate(db));
    assert.doesNotMatch(first.stderr, /WARNING/);
    const keysDir = join(dataDir, 'auth', 'keys');
    const key = readdirSync(keysDir).find((name) => name.endsWith('.key'))!;
    for (const dir of [dataDir, join(dataDir, 'auth'), keysDir]) assert.equal(octal(mode(dir)), '700', dir);
    assert.equal(octal(mode(join(keysDir, key))), '600');

    chmodSync(dataDir, 0o755);
    chmodSync(db, 0o644);
    chmodSync(join(keysDir, key), 0o640);
    const second = await authStart(dataDir);
    assert.match(second.stderr, new RegExp(`^WARNING: ${dataDir} has mode 0755: .*run: chmod 700 ${dataDir}$`, 'm'));
    assert.match(second.stderr, new RegExp(`^WARNING: ${db} has mode 0644: .*run: chmod 600 ${db}$`, 'm'));
    assert.match(second.stderr, new RegExp(`^WARNING: ${join(keysDir, key)} has mode 0640`, 'm'));
  });

  it('web: session database and session key file are created owner-only; loosened ones are named', async () => {
    const dataDir = join(root, 'web-data');
    const db = join(dataDir, 'web', 'web.sqlite');
    const key = join(dataDir, 'web', 'session.key');
    const webStart = (whileServing?: () => void) =>
      runUntilServing('services/web/main.ts', { DOCKYARD_DATA_DIR: dataDir, WEB_HTTP_ADDR: '127.0.0.1:0', WEB_REGISTRY_URL: 'http://127.0.0.1:9' }, '/healthz', 200, whileServing);
    const first = await webStart(() => assertDatabasePrivate(db));
    assert.doesNotMatch(first.stderr, /WARNING/);
    assert.equal(octal(mode(join(dataDir, 'web'))), '700');
    assert.equal(octal(mode(key)), '600');
    chmodSync(key, 0o644);
    chmodSync(db, 0o640);
    const second = await webStart();
    assert.match(second.stderr, new RegExp(`^WARNING: ${key} has mode 0644: .*run: chmod 600 ${key}$`, 'm'));
    assert.match(second.stderr, new RegExp(`^WARNING: ${db} has mode 0640`, 'm'));
  });

  it('registry: data directory and database are created owner-only; a loosened database is named', async () => {
    const dataDir = join(root, 'registry-data');
    const db = join(dataDir, 'registry', 'registry.sqlite');
    await registryStart(dataDir, () => assertDatabasePrivate(db));
    for (const dir of [dataDir, join(dataDir, 'registry')]) assert.equal(octal(mode(dir)), '700', dir);
    chmodSync(db, 0o604);
    assert.match((await registryStart(dataDir)).stderr, new RegExp(`^WARNING: ${db} has mode 0604`, 'm'));
  });
});
