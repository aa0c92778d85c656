// WalSync: the group fdatasync that makes deferred SQLite commits durable before they are
// acknowledged. A flush must wait for a sync that started after it was called (a sync in
// flight may predate the caller's commit), callers arriving together share one sync, a
// failed sync rejects its callers only, and the registry's database really runs deferred.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, walSyncOf } from '../../../shared/db/index.js';
import { WalSync } from '../../../shared/db/wal-sync.js';
import { KnexMetadataStore } from '../../../services/registry/metadata/knex-store.js';

/** A sync function whose calls stay pending until released, in order. */
function controlledSync() {
  const calls: Array<{ path: string; release: (err?: Error) => void }> = [];
  const sync = (path: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ path, release: (err) => (err ? reject(err) : resolve()) });
    });
  return { calls, sync };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WalSync', () => {
  it('syncs the -wal file of the database', async () => {
    const { calls, sync } = controlledSync();
    const pending = new WalSync('/data/registry.sqlite', sync).flush();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.path, '/data/registry.sqlite-wal');
    calls[0]!.release();
    await pending;
  });

  it('makes callers that arrive during a sync wait for the next one, and shares it between them', async () => {
    const { calls, sync } = controlledSync();
    const wal = new WalSync('db', sync);
    let firstDone = false;
    const first = wal.flush().then(() => (firstDone = true));
    const late = [wal.flush(), wal.flush(), wal.flush()];
    let lateDone = 0;
    for (const p of late) void p.then(() => lateDone++);
    assert.equal(calls.length, 1, 'the late callers do not start a sync of their own while one runs');

    calls[0]!.release();
    await first;
    await tick();
    assert.equal(firstDone, true);
    assert.equal(lateDone, 0, 'the sync in flight may predate their commits: they wait for the next');
    assert.equal(calls.length, 2, 'one more sync serves all three late callers');

    calls[1]!.release();
    await Promise.all(late);
    assert.equal(lateDone, 3);
    assert.equal(calls.length, 2);

    const again = wal.flush();
    assert.equal(calls.length, 3, 'with nothing in flight a flush starts its own sync at once');
    calls[2]!.release();
    await again;
  });

  it('rejects the callers of a failed sync and still runs the next one', async () => {
    const { calls, sync } = controlledSync();
    const wal = new WalSync('db', sync);
    const failing = wal.flush();
    const next = wal.flush();
    calls[0]!.release(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await assert.rejects(failing, /EIO/);
    await tick();
    assert.equal(calls.length, 2);
    calls[1]!.release();
    await next;
  });

  it('resolves when the database has no log file, and syncs a real one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-wal-sync-'));
    try {
      await new WalSync(join(dir, 'absent.sqlite')).flush();
      const db = openDatabase({ client: 'sqlite', filename: join(dir, 'db.sqlite') }, { commitSync: 'deferred' });
      try {
        await db.schema.createTable('t', (t) => t.integer('n'));
        await db('t').insert({ n: 1 });
        assert.ok(statSync(join(dir, 'db.sqlite-wal')).size > 0);
        await walSyncOf(db)!.flush();
      } finally {
        await db.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('commitSync option of openDatabase', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dockyard-commit-sync-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a full fsync per commit by default and has no WalSync then', async () => {
    const db = openDatabase({ client: 'sqlite', filename: join(dir, 'a.sqlite') });
    try {
      assert.deepEqual(await db.raw('pragma synchronous'), [{ synchronous: 2 }]);
      assert.equal(walSyncOf(db), null);
    } finally {
      await db.destroy();
    }
  });

  it('has no WalSync for an in-memory database even when deferred is asked for', async () => {
    const db = openDatabase({ client: 'sqlite', filename: ':memory:' }, { commitSync: 'deferred' });
    try {
      assert.equal(walSyncOf(db), null);
      assert.deepEqual(await db.raw('pragma synchronous'), [{ synchronous: 2 }]);
    } finally {
      await db.destroy();
    }
  });

  it('is what the registry metadata store opens with, and its writes wait for the sync', async () => {
    const store = await KnexMetadataStore.open({ client: 'sqlite', filename: join(dir, 'registry.sqlite') });
    try {
      const db = (store as unknown as { db: import('knex').Knex }).db;
      assert.deepEqual(await db.raw('pragma synchronous'), [{ synchronous: 1 }]);
      const wal = walSyncOf(db)!;
      let syncs = 0;
      const flush = wal.flush.bind(wal);
      wal.flush = () => {
        syncs++;
        return flush();
      };
      const digest = `sha256:${'a'.repeat(64)}`;
      await store.linkBlob('team/app', digest, 3);
      assert.equal(syncs, 1, 'linkBlob');
      await store.unlinkBlob('team/app', digest);
      assert.equal(syncs, 2, 'unlinkBlob');
      await store.linkBlob('team/app', digest, 3);
      await store.putManifest('team/app', {
        digest: `sha256:${'b'.repeat(64)}`,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 10,
        artifactType: null,
        subject: null,
        annotations: null,
        blobs: [digest],
        manifests: [],
      });
      assert.equal(syncs, 4, 'putManifest');
      await store.putTag('team/app', 'v1', `sha256:${'b'.repeat(64)}`);
      assert.equal(syncs, 5, 'putTag');
      await store.deleteTag('team/app', 'v1');
      assert.equal(syncs, 6, 'deleteTag');
      await store.transaction(async (tx) => {
        await store.putTag('team/app', 'v2', `sha256:${'b'.repeat(64)}`, tx);
        await store.putTag('team/app', 'v3', `sha256:${'b'.repeat(64)}`, tx);
      });
      assert.equal(syncs, 7, 'one sync for a whole transaction, none for the writes inside it');
      assert.equal(await store.deleteManifest('team/app', `sha256:${'b'.repeat(64)}`), true);
      assert.equal(syncs, 8, 'deleteManifest');
    } finally {
      await store.close();
    }
  });
});
