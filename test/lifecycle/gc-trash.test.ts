/**
 * The collector's trash (lifecycle/gc-trash.ts): on a file system, doomed blobs are renamed
 * into /gc-trash inside the deleting transaction and deleted after its durable commit. What
 * a crash leaves there may be bytes whose deletion a power cut rolled back, so the next run
 * puts every entry back instead of deleting it; what is then still garbage is collected by
 * that same run, and bytes something references stay.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDigest } from '../../shared/grammar/reference.js';
import { blobDirectory, gcTrashPath } from '../../services/registry/storage/paths.js';
import { assertImagePulls, digestsOnDisk, imageDigests, makeImage, pushImage, sha256, startLifecycleRegistry, uploadBlob } from './harness.js';

describe('garbage collection trash', () => {
  it('puts back what an interrupted run left in the trash, then collects only what is garbage', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    try {
      const layer = Buffer.from('layer a crash left in the trash\n'.repeat(50));
      const image = makeImage('trash', [layer]);
      assert.ok(await pushImage(registry.url, 'team/app', 'v1', image));
      const stray = Buffer.from('stray a crash left in the trash\n'.repeat(50));
      assert.equal(await uploadBlob(registry.url, 'team/stray', stray), 201);
      const { storage } = registry;
      // As a run killed between its moves and its durable commit leaves them, in two batches.
      await storage.rename!(blobDirectory(parseDigest(sha256(layer))), gcTrashPath('00000000000000aa', parseDigest(sha256(layer))));
      await storage.rename!(blobDirectory(parseDigest(sha256(stray))), gcTrashPath('00000000000000bb', parseDigest(sha256(stray))));
      assert.ok(!(await digestsOnDisk(registry.blobRoot)).has(sha256(layer)));

      // The stray upload's link is not referenced by any manifest: with grace 0 it is garbage.
      const report = await registry.collector().run();
      assert.deepEqual(report.blobs.map((b) => b.digest), [sha256(stray)], 'the stray was put back and collected; the layer was put back and kept');
      assert.deepEqual([...(await digestsOnDisk(registry.blobRoot))].sort(), imageDigests(image).sort());
      await assertImagePulls(registry.url, 'team/app', 'v1', image);
      assert.deepEqual(await readdir(join(registry.blobRoot, 'gc-trash')).catch(() => []), [], 'the trash is empty after the run');
    } finally {
      await registry.close();
    }
  });

  it('drops a trash entry whose digest is in place again (pushed since) and keeps the pushed bytes', async () => {
    const registry = await startLifecycleRegistry('sqlite', 3600);
    try {
      const layer = Buffer.from('layer pushed again after a crash\n'.repeat(50));
      const image = makeImage('again', [layer]);
      assert.ok(await pushImage(registry.url, 'team/app', 'v1', image));
      const digest = parseDigest(sha256(layer));
      await registry.storage.rename!(blobDirectory(digest), gcTrashPath('00000000000000cc', digest));
      // The same bytes come back into place (a push of the same layer).
      assert.equal(await uploadBlob(registry.url, 'team/other', layer), 201);
      const report = await registry.collector().run();
      assert.equal(report.blobs.length, 0);
      await assertImagePulls(registry.url, 'team/app', 'v1', image);
      assert.deepEqual(await readdir(join(registry.blobRoot, 'gc-trash')).catch(() => []), []);
    } finally {
      await registry.close();
    }
  });
});

