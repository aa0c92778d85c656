/**
 * Bytes leave their place inside the deleting transaction, before its commit (moved into the
 * trash on a file system, deleted in place elsewhere), never after it: an upload of the same
 * digest that starts just as the collector removes the bytes must not be acknowledged over
 * bytes the collector then removes. The collector's storage starts that upload at its
 * removal and gives it time to finish first; with the removal inside the transaction the
 * upload cannot get past the lock meanwhile, so it ends after the commit with its bytes in
 * place. A collector that removed bytes after its commit would let it be acknowledged and
 * then take its bytes.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/observability/logger.js';
import { GarbageCollector } from '../../services/registry/lifecycle/gc.js';
import { GcStore } from '../../services/registry/lifecycle/gc-store.js';
import { BlobStore } from '../../services/registry/storage/blobs.js';
import { FilesystemDriver } from '../../services/registry/storage/drivers/filesystem.js';
import { digestsOnDisk, sha256, startLifecycleRegistry, uploadBlob } from './harness.js';

const UPLOAD_HEAD_START_MS = 500;

for (const mode of ['rename', 'delete'] as const) {
  describe(`garbage collection removing bytes by ${mode}`, () => {
    it('removes them before its commit: an upload of the same digest meanwhile ends with its bytes in place', async () => {
      const registry = await startLifecycleRegistry('sqlite', 0);
      try {
        const blob = Buffer.from('bytes re-uploaded while collected\n'.repeat(60));
        assert.equal(await uploadBlob(registry.url, 'team/stray', blob), 201);
        const encoded = sha256(blob).slice('sha256:'.length);
        const storage = new FilesystemDriver(registry.blobRoot);
        let upload: Promise<number> | null = null;
        const racing = async (path: string) => {
          if (upload || !path.endsWith(encoded) || !path.startsWith('/blobs/')) return;
          upload = uploadBlob(registry.url, 'team/again', blob);
          await Promise.race([upload, sleep(UPLOAD_HEAD_START_MS)]);
        };
        const remove = storage.delete.bind(storage);
        storage.delete = async (path) => {
          await racing(path);
          return remove(path);
        };
        if (mode === 'rename') {
          const rename = storage.rename.bind(storage);
          storage.rename = async (source, dest) => {
            await racing(source);
            return rename(source, dest);
          };
        } else {
          (storage as { rename?: unknown }).rename = undefined;
        }
        const collector = new GarbageCollector(
          { metadata: registry.metadata, gc: new GcStore(registry.metadata.db), blobs: new BlobStore(storage), storage, logger: silentLogger() },
          { graceSeconds: 0, deleteUntagged: false },
        );
        const report = await collector.run();
        assert.deepEqual(report.blobs.map((b) => b.digest), [sha256(blob)], 'the collector removed the stray bytes');
        assert.ok(upload, 'the upload was started at the removal');
        assert.equal(await upload, 201);
        assert.ok((await digestsOnDisk(registry.blobRoot)).has(sha256(blob)), 'the acknowledged upload has its bytes');
        assert.equal((await fetch(`${registry.url}/v2/team/again/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 200);
      } finally {
        await registry.close();
      }
    });
  });
}
