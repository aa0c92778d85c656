// While another process holds the SQLite write lock, a write waits for it without freezing
// the registry: a GET is answered while the lock is still held and the write still waits,
// and the write completes once the lock is released. (Before, SQLite's busy wait ran inside
// the synchronous better-sqlite3 call and stopped the whole event loop for up to 5 s.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startRegistryService } from '../../../services/registry/main.js';
import type { RegistryConfig } from '../../../shared/config/index.js';
import { sqliteBusyWaits } from '../../../shared/db/index.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const root = mkdtempSync(join(tmpdir(), 'dockyard-locked-db-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Another process that takes the write lock of `file` and keeps it until told to let go. */
async function lockHolder(file: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    console.log('locked');
    process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, file], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => (line === 'locked' ? resolve() : reject(new Error(line))));
    void exited.then((code) => reject(new Error(`lock holder exited with ${String(code)}`)));
  });
  return {
    async release() {
      child.stdin!.end('go\n');
      await exited;
    },
  };
}

describe('SQLite write lock held by another process', () => {
  it('keeps serving while a write waits, and finishes the write after the lock is released', async () => {
    const storage = join(root, 'blobs');
    const database = join(root, 'registry.sqlite');
    const config: RegistryConfig = {
      http: { host: '127.0.0.1', port: 0 },
      dataDir: root,
      storage: { driver: 'filesystem', rootDirectory: storage },
      database: { client: 'sqlite', filename: database },
      auth: { kind: 'none' },
      readOnly: false,
      uploads: { purgeAfterSeconds: 3600 },
      limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: 1000 },
    };
    const registry = await startRegistryService(config, { logger: pino({ level: 'silent' }) });
    let holder: { release(): Promise<void> } | undefined;
    try {
      holder = await lockHolder(database);
      const blob = Buffer.from('waits for the write lock');
      const hex = createHash('sha256').update(blob).digest('hex');
      let settled = false;
      const waitsBefore = sqliteBusyWaits();
      // A monolithic upload: its last step writes the blob's link to the database.
      const write = fetch(`${registry.url}/v2/team/locked/blobs/uploads/?digest=sha256:${hex}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: blob,
      }).finally(() => (settled = true));
      // Wait until the write has met the lock (it waited at least once), or has ended.
      while (sqliteBusyWaits() === waitsBefore && !settled) await sleep(5);

      const read = await fetch(`${registry.url}/v2/`);
      assert.equal(read.status, 200);
      assert.equal(settled, false, 'the GET was answered while the write still waited for the lock');

      await holder.release();
      holder = undefined;
      const written = await write;
      assert.equal(written.status, 201, await written.text());
      const linked = await fetch(`${registry.url}/v2/team/locked/blobs/sha256:${hex}`, { method: 'HEAD' });
      assert.equal(linked.status, 200);
    } finally {
      await holder?.release();
      await registry.close();
    }
  });
});
