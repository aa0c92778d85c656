// What the Azure driver does beyond the storage contract, against Azurite (started by this
// file): a PATCH's suspend commits the blocks already staged (nothing re-sent, no side
// object), blocks of a writer that died stay invisible and are discarded, an append to a
// large Put Blob object stages its bytes as blocks, a move is a copy inside the store, and SAS
// URLs exist only when redirects are on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { AzureDriver } from '../../../services/registry/storage/drivers/azure/index.js';
import type { AzureStorageConfig } from '../../../shared/config/index.js';
import { azureTestConfig, azuriteSuiteGate } from '../../support/azurite.js';

const MiB = 1024 * 1024;

if (await azuriteSuiteGate('Azure driver')) {
  describe('Azure driver on Azurite', () => {
    let config: AzureStorageConfig;
    let driver: AzureDriver;

    /** Every blob name in the container, with blobs that hold only uncommitted blocks. */
    async function names(): Promise<string[]> {
      const found: string[] = [];
      for await (const item of driver.container.listBlobsFlat({ includeUncommitedBlobs: true })) found.push(item.name);
      return found.sort();
    }

    async function blockIds(path: string, kind: 'committed' | 'uncommitted'): Promise<string[]> {
      const list = await driver.container.getBlockBlobClient(`team/registry${path}`).getBlockList(kind);
      return (kind === 'committed' ? list.committedBlocks : list.uncommittedBlocks)?.map((block) => block.name) ?? [];
    }

    /**
     * Waits until `count` blocks of a writer that "died" are staged: its last block is still
     * in flight when write() returns, and a stage landing after the next commit would be a
     * different story (a request that died mid-stage) from the one these tests tell.
     */
    async function stagedBlocks(path: string, count: number): Promise<string[]> {
      for (let waited = 0; ; waited += 10) {
        const ids = await blockIds(path, 'uncommitted');
        if (ids.length >= count || waited >= 5000) return ids;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    before(async () => {
      config = await azureTestConfig({ rootDirectory: '/team/registry/' });
      driver = new AzureDriver(config, 1 * MiB);
    });

    it('suspends by committing the staged blocks: the next request adds blocks, nothing is re-sent, no side object', async () => {
      const first = randomBytes(2 * MiB + 5);
      const writer = await driver.writer('/uploads/u/data', true);
      await writer.write(first);
      await writer.suspend();
      const afterFirst = await blockIds('/uploads/u/data', 'committed');
      assert.equal(afterFirst.length, 3);
      assert.deepEqual(await names(), ['team/registry/uploads/u/data']);
      assert.equal((await driver.stat('/uploads/u/data')).size, first.length);

      const second = randomBytes(MiB + 7);
      const again = await driver.writer('/uploads/u/data', true);
      await again.write(second);
      await again.suspend();
      const afterSecond = await blockIds('/uploads/u/data', 'committed');
      assert.deepEqual(afterSecond.slice(0, 3), afterFirst, 'the first request’s blocks are reused as they are');
      assert.equal(afterSecond.length, 5);
      assert.ok((await driver.getContent('/uploads/u/data')).equals(Buffer.concat([first, second])));
    });

    it('keeps the blocks of a request that died invisible, and the next commit discards them', async () => {
      const kept = randomBytes(MiB / 2);
      const writer = await driver.writer('/uploads/d/data', true);
      await writer.write(kept);
      await writer.suspend();
      const dying = await driver.writer('/uploads/d/data', true);
      await dying.write(randomBytes(3 * MiB));
      // Never suspended: the process died here, once its blocks were staged.
      assert.equal((await stagedBlocks('/uploads/d/data', 3)).length, 3);
      assert.equal((await driver.stat('/uploads/d/data')).size, kept.length);
      const next = await driver.writer('/uploads/d/data', true);
      assert.equal(next.size, kept.length);
      await next.write(Buffer.from('end'));
      await next.commit();
      assert.deepEqual(await blockIds('/uploads/d/data', 'uncommitted'), []);
      assert.ok((await driver.getContent('/uploads/d/data')).equals(Buffer.concat([kept, Buffer.from('end')])));
    });

    it('a commit with nothing new still makes a blob of a name that holds only a dead request’s blocks', async () => {
      const dying = await driver.writer('/uploads/e/data', true);
      await dying.write(randomBytes(2 * MiB));
      // Never suspended: the process died here, once its blocks were staged, before any commit.
      assert.equal((await stagedBlocks('/uploads/e/data', 2)).length, 2);
      const next = await driver.writer('/uploads/e/data', true);
      assert.equal(next.size, 0);
      await next.commit();
      assert.equal((await driver.stat('/uploads/e/data')).size, 0);
      assert.deepEqual(await blockIds('/uploads/e/data', 'uncommitted'), []);
    });

    it('cancel of a writer that never committed leaves no staged blocks behind', async () => {
      const writer = await driver.writer('/uploads/c/data', true);
      await writer.write(randomBytes(2 * MiB));
      await writer.cancel();
      assert.ok(!(await names()).includes('team/registry/uploads/c/data'));
    });

    it('appends to a Put Blob object above one block by staging its bytes again as blocks', async () => {
      const base = randomBytes(3 * MiB + 1);
      await driver.putContent('/w/big', base);
      assert.deepEqual(await blockIds('/w/big', 'committed'), []);
      const writer = await driver.writer('/w/big', true);
      assert.equal(writer.size, base.length);
      await writer.write(Buffer.from('tail'));
      await writer.commit();
      assert.ok((await driver.getContent('/w/big')).equals(Buffer.concat([base, Buffer.from('tail')])));
    });

    it('moves with a copy inside the store: the destination is byte for byte, the source gone', async () => {
      const content = randomBytes(5 * MiB + 3);
      const writer = await driver.writer('/uploads/m/data', false);
      await writer.write(content);
      await writer.commit({ name: false });
      await driver.move('/uploads/m/data', '/blobs/m/data');
      assert.ok((await driver.getContent('/blobs/m/data')).equals(content));
      await assert.rejects(driver.stat('/uploads/m/data'));
    });

    it('gives no URL for clients unless redirects are on, then a read-only SAS URL that serves ranges', async () => {
      await driver.putContent('/blobs/s/data', Buffer.from('served by the store'));
      assert.equal(await driver.urlFor('/blobs/s/data'), null);
      const redirecting = new AzureDriver({ ...config, redirect: true });
      const url = await redirecting.urlFor('/blobs/s/data');
      assert.ok(url?.startsWith(`${config.serviceUrl}/${config.container}/team/registry/blobs/s/data?`), url ?? 'null');
      assert.match(url!, /[?&]sp=r(&|$)/);
      const response = await fetch(url!, { headers: { range: 'bytes=10-' } });
      assert.equal(response.status, 206);
      assert.equal(await response.text(), 'the store');
      const write = await fetch(url!, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
      assert.equal(write.status, 403, 'the URL only reads');
      await write.body?.cancel();
    });
  });
}
