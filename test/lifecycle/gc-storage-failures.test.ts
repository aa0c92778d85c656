/**
 * A page's storage deletions run side by side and are settled one by one (lifecycle/gc.ts,
 * bounded.ts): when the store refuses to delete one blob, the others of the page are still
 * deleted and reported, and the refused one is queued again and deleted by the next run.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/observability/logger.js';
import { GarbageCollector } from '../../services/registry/lifecycle/gc.js';
import { GcStore } from '../../services/registry/lifecycle/gc-store.js';
import { BlobStore } from '../../services/registry/storage/blobs.js';
import { FilesystemDriver } from '../../services/registry/storage/drivers/filesystem.js';
import { digestsOnDisk, sha256, startLifecycleRegistry, uploadBlob } from './harness.js';

// A file system moves doomed blobs into the collector's trash (rename); a store without
// rename (an object store) deletes them in place: the refusal is tested on both paths.
for (const mode of ['rename', 'delete'] as const) describe(`garbage collection when storage refuses to ${mode} a blob`, () => {
  it('deletes the rest of the page and retries the refused blob on the next run', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    try {
      const strays = Array.from({ length: 12 }, (_, i) => Buffer.from(`stray ${i}\n`.repeat(40)));
      for (const stray of strays) assert.equal(await uploadBlob(registry.url, 'team/app', stray), 201);
      const refused = sha256(strays[5]!);
      let refusing = true;
      const storage = new FilesystemDriver(registry.blobRoot);
      const refusedPath = new RegExp(`^/blobs/.*${refused.slice('sha256:'.length)}$`);
      const remove = storage.delete.bind(storage);
      const rename = storage.rename.bind(storage);
      storage.delete = async (path) => {
        if (refusing && refusedPath.test(path)) throw new Error('storage said no');
        return remove(path);
      };
      if (mode === 'rename') {
        storage.rename = async (source, dest) => {
          if (refusing && refusedPath.test(source)) throw new Error('storage said no');
          return rename(source, dest);
        };
      } else {
        (storage as { rename?: unknown }).rename = undefined;
      }
      const collector = () =>
        new GarbageCollector(
          { metadata: registry.metadata, gc: new GcStore(registry.metadata.db), blobs: new BlobStore(storage), storage, logger: silentLogger() },
          { graceSeconds: 0, deleteUntagged: false, batchSize: 5 },
        );

      const first = await collector().run();
      assert.equal(first.blobs.length, 11);
      assert.ok(!first.blobs.some((b) => b.digest === refused));
      assert.deepEqual([...(await digestsOnDisk(registry.blobRoot))], [refused]);

      refusing = false;
      const second = await collector().run();
      assert.deepEqual(second.blobs.map((b) => b.digest), [refused]);
      assert.equal((await digestsOnDisk(registry.blobRoot)).size, 0);
      assert.deepEqual(await readdir(join(registry.blobRoot, 'gc-trash')).catch(() => []), [], 'nothing left in the trash');
    } finally {
      await registry.close();
    }
  });
});
