// Uploads and pulls on the Azure driver against Azurite (started by this file): a streamed
// PATCH and small chunked PATCHes that cross the 4 MiB block size, PATCHes alternating
// between two replicas (each with its own client), a PATCH that dies halfway, a wrong
// digest, the purge of an abandoned session, and what the container holds afterwards
// (staged, uncommitted blocks included).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AzureDriver } from '../../../services/registry/storage/drivers/azure/index.js';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import { UploadManager } from '../../../services/registry/storage/uploads.js';
import { azureTestConfig, azuriteSuiteGate } from '../../support/azurite.js';
import { digestOf, expectError, startReplica, startTestRegistry, type TestRegistry } from './harness.js';

const MiB = 1024 * 1024;

if (await azuriteSuiteGate('Azure uploads')) {
  describe('uploads on Azure (Azurite)', () => {
    let registry: TestRegistry;
    let driver: AzureDriver;
    let replica: { url: string; close(): Promise<void> };
    let replicaDriver: AzureDriver;

    before(async () => {
      const config = await azureTestConfig({ rootDirectory: '/dockyard' });
      driver = new AzureDriver(config);
      replicaDriver = new AzureDriver(config);
      registry = await startTestRegistry({ driver });
      replica = await startReplica(registry, { storage: replicaDriver });
    });
    after(async () => {
      await replica.close();
      await registry.close();
    });

    /** Every blob name in the container, including blobs that hold only staged, uncommitted blocks. */
    async function containerNames(): Promise<string[]> {
      const names: string[] = [];
      for await (const item of driver.container.listBlobsFlat({ includeUncommitedBlobs: true })) names.push(item.name);
      return names.sort();
    }

    /** Staged blocks no commit has taken (what a request that died leaves). */
    async function uncommittedBlocks(name: string): Promise<number> {
      try {
        return ((await driver.container.getBlockBlobClient(name).getBlockList('uncommitted')).uncommittedBlocks ?? []).length;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return 0;
        throw err;
      }
    }

    async function start(url: string): Promise<string> {
      const response = await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(response.status, 202);
      return response.headers.get('location')!;
    }

    async function pull(digest: string, range?: string): Promise<Response> {
      return fetch(`${registry.url}/v2/team/app/blobs/${digest}`, { headers: range ? { Range: range } : {} });
    }

    it('a streamed PATCH of several blocks completes, and only the blob stays in the container', async () => {
      const content = randomBytes(12 * MiB + 1);
      const location = await start(registry.url);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < content.length; offset += 256 * 1024) controller.enqueue(content.subarray(offset, offset + 256 * 1024));
          controller.close();
        },
      });
      const patched = await fetch(`${registry.url}${location}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
      assert.equal(patched.status, 202, await patched.clone().text());
      assert.equal(patched.headers.get('range'), `0-${content.length - 1}`);
      const digest = digestOf(content);
      const done = await fetch(`${registry.url}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
      const whole = await pull(digest);
      assert.equal(whole.headers.get('content-length'), String(content.length));
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(content));
      const ranged = await pull(digest, `bytes=${5 * MiB - 3}-${10 * MiB + 2}`);
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(5 * MiB - 3, 10 * MiB + 3)));
      const hex = digest.slice('sha256:'.length);
      assert.deepEqual(
        (await containerNames()).filter((name) => name.includes(hex) || name.includes('/uploads/')),
        [`dockyard/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`],
      );
    });

    it('small chunks alternating between replicas cross block boundaries and complete with the right digest', async () => {
      const sizes = [1 * MiB, 3 * MiB, 2 * MiB + 17, 4 * MiB, 1, 6 * MiB];
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
        assert.equal(response.headers.get('range'), `0-${offset - 1}`);
        // The other replica sees the same offset.
        const status = await fetch(`${urls[(i + 1) % 2]}${location}`);
        assert.equal(status.headers.get('range'), `0-${offset - 1}`);
      }
      const digest = digestOf(content);
      const done = await fetch(`${urls[1]}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
      assert.ok(Buffer.from(await (await pull(digest)).arrayBuffer()).equals(content));
      const id = location.split('/').pop()!;
      assert.deepEqual((await containerNames()).filter((name) => name.includes(id)), []);
    });

    it('a PATCH that dies halfway leaves the session at its last good offset', async () => {
      const first = randomBytes(2 * MiB);
      const rest = randomBytes(7 * MiB);
      const location = await start(registry.url);
      const ok = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: first, headers: { 'Content-Range': `0-${first.length - 1}` } });
      assert.equal(ok.status, 202);
      // Declares the whole rest but breaks off after 6 MiB: a block has been staged by then.
      const broken = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < 6 * MiB; offset += 512 * 1024) controller.enqueue(rest.subarray(offset, offset + 512 * 1024));
        },
        pull(controller) {
          return new Promise((resolve) => setTimeout(() => {
            controller.error(new Error('client gone'));
            resolve();
          }, 200));
        },
      });
      await assert.rejects(
        fetch(`${registry.url}${location}`, {
          method: 'PATCH',
          body: broken,
          duplex: 'half',
          headers: { 'Content-Range': `${first.length}-${first.length + rest.length - 1}`, 'Content-Length': String(rest.length) },
        } as RequestInit),
      );
      // The request is gone on the client's side; the server finishes its rollback on its own.
      let range = '';
      for (let i = 0; i < 100 && range !== `0-${first.length - 1}`; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        range = (await fetch(`${replica.url}${location}`)).headers.get('range') ?? '';
      }
      assert.equal(range, `0-${first.length - 1}`);
      const id = location.split('/').pop()!;
      // Its rollback committed the old block list, which discarded the blocks it had staged.
      assert.equal(await uncommittedBlocks(`dockyard/uploads/${id}/data`), 0);
      const content = Buffer.concat([first, rest]);
      const resumed = await fetch(`${replica.url}${location}?digest=${digestOf(content)}`, {
        method: 'PUT',
        body: rest,
        headers: { 'Content-Range': `${first.length}-${content.length - 1}` },
      });
      assert.equal(resumed.status, 201, await resumed.clone().text());
      assert.ok(Buffer.from(await (await pull(digestOf(content))).arrayBuffer()).equals(content));
      assert.deepEqual((await containerNames()).filter((name) => name.includes(id)), []);
    });

    it('a wrong digest is DIGEST_INVALID and leaves neither blob nor upload behind', async () => {
      const content = randomBytes(6 * MiB);
      const location = await start(registry.url);
      const wrong = digestOf('something else');
      const done = await fetch(`${registry.url}${location}?digest=${wrong}`, { method: 'PUT', body: content });
      await expectError(done, 400, 'DIGEST_INVALID');
      const id = location.split('/').pop()!;
      assert.deepEqual((await containerNames()).filter((name) => name.includes(id) || name.includes(wrong.slice(7))), []);
    });

    it('the purge removes an abandoned session and its data blob', async () => {
      const location = await start(registry.url);
      const id = location.split('/').pop()!;
      const response = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: randomBytes(6 * MiB) });
      assert.equal(response.status, 202);
      assert.deepEqual((await containerNames()).filter((name) => name.includes(id)), [`dockyard/uploads/${id}/data`, `dockyard/uploads/${id}/info.json`]);
      const housekeeping = new UploadManager(replicaDriver, new BlobStore(replicaDriver));
      assert.equal(await housekeeping.purgeOlderThan(0), 1);
      assert.deepEqual((await containerNames()).filter((name) => name.includes(id)), []);
      await expectError(await fetch(`${registry.url}${location}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  });
}
