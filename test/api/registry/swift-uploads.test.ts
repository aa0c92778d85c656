// Uploads and pulls on the Swift driver against the Swift API of a real Ceph RGW: a
// streamed PATCH of several segments, small chunked PATCHes alternating between two
// replicas (each with its own client and token), a wrong digest, the purge of an abandoned
// session, and what the container holds afterwards: the blob's manifest and the segments
// it owns, nothing of the upload, and nothing at all once the blob is deleted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SwiftDriver } from '../../../services/registry/storage/drivers/swift/index.js';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import { UploadManager } from '../../../services/registry/storage/uploads.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import { swiftSuiteGate, swiftTestConfig } from '../../support/ceph-rgw.js';
import { containerNames } from '../../support/swift-container.js';
import { digestOf, expectError, startReplica, startTestRegistry, type TestRegistry } from './harness.js';

const MiB = 1024 * 1024;

if (await swiftSuiteGate('Swift uploads')) {
  describe('uploads on Swift (Ceph RGW)', () => {
    let registry: TestRegistry;
    let driver: SwiftDriver;
    let replica: { url: string; close(): Promise<void> };
    let replicaDriver: SwiftDriver;

    before(async () => {
      const config = await swiftTestConfig({ prefix: '/dockyard', chunkSize: 2 * MiB });
      driver = new SwiftDriver(config);
      replicaDriver = new SwiftDriver(config);
      registry = await startTestRegistry({ driver });
      replica = await startReplica(registry, { storage: replicaDriver });
    });
    after(async () => {
      await replica.close();
      await registry.close();
      await driver.close();
      await replicaDriver.close();
    });

    async function start(url: string): Promise<string> {
      const response = await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(response.status, 202);
      return response.headers.get('location')!;
    }

    async function pull(digest: string, range?: string): Promise<Response> {
      return fetch(`${registry.url}/v2/team/app/blobs/${digest}`, { headers: range ? { Range: range } : {} });
    }

    it('a streamed PATCH of several segments completes; the blob keeps its segments, the upload leaves nothing; deleting the blob removes them', async () => {
      const content = randomBytes(7 * MiB + 1);
      const location = await start(registry.url);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < content.length; offset += 256 * 1024) controller.enqueue(content.subarray(offset, offset + 256 * 1024));
          controller.close();
        },
      });
      const patched = await fetch(`${registry.url}${location}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
      assert.equal(patched.status, 202, await patched.clone().text());
      const digest = digestOf(content);
      const done = await fetch(`${registry.url}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
      const whole = await pull(digest);
      assert.equal(whole.headers.get('content-length'), String(content.length));
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(content));
      const ranged = await pull(digest, `bytes=${2 * MiB - 3}-${6 * MiB + 2}`);
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(2 * MiB - 3, 6 * MiB + 3)));

      const hex = digest.slice('sha256:'.length);
      const names = await containerNames(driver, 'dockyard/');
      assert.deepEqual(names.filter((n) => !n.startsWith('dockyard/.segments/')), [`dockyard/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`]);
      const segments = names.filter((n) => n.startsWith('dockyard/.segments/'));
      // Four segments (2+2+2+1 MiB) and the owner record, all of one set.
      assert.equal(segments.length, 5);
      assert.equal(new Set(segments.map((n) => n.slice(0, n.lastIndexOf('/')))).size, 1);

      assert.equal(await new BlobStore(replicaDriver).delete(parseDigest(digest)), true);
      assert.deepEqual(await containerNames(driver, 'dockyard/'), []);
    });

    it('small chunks alternating between replicas cross segment boundaries and complete with the right digest', async () => {
      const sizes = [1 * MiB, 3 * MiB, 1 * MiB + 17, 2 * MiB, 1, 3 * MiB];
      const content = randomBytes(sizes.reduce((a, b) => a + b, 0));
      const urls = [registry.url, replica.url];
      const location = await start(urls[0]);
      let offset = 0;
      for (const [i, size] of sizes.entries()) {
        const chunk = content.subarray(offset, offset + size);
        const response = await fetch(`${urls[i % 2]}${location}`, {
          method: 'PATCH',
          body: chunk,
          headers: { 'Content-Range': `${offset}-${offset + size - 1}`, 'Content-Type': 'application/octet-stream' },
        });
        assert.equal(response.status, 202, await response.clone().text());
        offset += size;
        const status = await fetch(`${urls[(i + 1) % 2]}${location}`);
        assert.equal(status.headers.get('range'), `0-${offset - 1}`);
      }
      const digest = digestOf(content);
      const done = await fetch(`${urls[1]}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
      assert.ok(Buffer.from(await (await pull(digest)).arrayBuffer()).equals(content));
      const id = location.split('/').pop()!;
      const left = (await containerNames(driver, 'dockyard/')).filter((n) => n.includes(id));
      // Only the segments the blob now owns (the set keeps the name of the path that wrote it).
      assert.ok(left.every((n) => n.startsWith(`dockyard/.segments/uploads/${id}/data/`)), left.join('\n'));
      assert.equal(new Set(left.map((n) => n.slice(0, n.lastIndexOf('/')))).size, 1);
      assert.ok(left.some((n) => n.endsWith('/owner')));
    });

    it('a wrong digest is DIGEST_INVALID and leaves neither blob, upload nor segments behind', async () => {
      const before = await containerNames(driver, 'dockyard/');
      const content = randomBytes(5 * MiB);
      const location = await start(registry.url);
      const wrong = digestOf('something else');
      await expectError(await fetch(`${registry.url}${location}?digest=${wrong}`, { method: 'PUT', body: content }), 400, 'DIGEST_INVALID');
      assert.deepEqual(await containerNames(driver, 'dockyard/'), before);
    });

    it('the purge removes an abandoned session and the segments it uploaded', async () => {
      const before = await containerNames(driver, 'dockyard/');
      const location = await start(registry.url);
      const id = location.split('/').pop()!;
      const response = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: randomBytes(5 * MiB) });
      assert.equal(response.status, 202);
      const during = await containerNames(driver, 'dockyard/');
      assert.ok(during.includes(`dockyard/uploads/${id}/data/.writer`), during.join('\n'));
      assert.equal(during.filter((n) => n.startsWith('dockyard/.segments/') && !before.includes(n)).length, 2);
      const housekeeping = new UploadManager(replicaDriver, new BlobStore(replicaDriver));
      assert.equal(await housekeeping.purgeOlderThan(0), 1);
      assert.deepEqual(await containerNames(driver, 'dockyard/'), before);
      await expectError(await fetch(`${registry.url}${location}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  });
}
