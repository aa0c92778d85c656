// What the S3 driver does beyond the storage contract, against a real Ceph RGW: where keys
// land under the root directory, the writer state hidden from listings, moves of objects
// above the single-copy limit through a multipart copy, and presigned URLs only when
// redirects are on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import type { S3StorageConfig } from '../../../shared/config/index.js';
import { s3SuiteGate, s3TestConfig } from '../../support/ceph-rgw.js';
import { bucketKeys, openMultipartUploads } from '../../support/s3-bucket.js';

const MiB = 1024 * 1024;

if (await s3SuiteGate('S3 driver')) {
  describe('S3 driver on Ceph RGW', () => {
    let config: S3StorageConfig;
    let driver: S3Driver;
    before(async () => {
      config = await s3TestConfig({ rootDirectory: '/team/registry/' });
      // Multipart copy from 6 MiB on, in 5 MiB ranges, so a small object exercises it.
      driver = new S3Driver(config, { singleCopyMaxBytes: 6 * MiB, partBytes: 5 * MiB });
    });
    after(() => driver.client.destroy());

    it('stores objects under the root directory, and a suspended writer only as hidden state', async () => {
      await driver.putContent('/blobs/a/data', Buffer.from('a'));
      const writer = await driver.writer('/uploads/u/data', true);
      await writer.write(randomBytes(5 * MiB + 1));
      await writer.suspend();
      assert.deepEqual(await bucketKeys(driver.client, config.bucket), ['team/registry/blobs/a/data', 'team/registry/uploads/u/data/.writer']);
      assert.deepEqual(await openMultipartUploads(driver.client, config.bucket), ['team/registry/uploads/u/data']);
      assert.deepEqual(await driver.list('/uploads/u'), ['/uploads/u/data']);
      assert.equal((await driver.stat('/uploads/u/data')).size, 5 * MiB + 1);
      await driver.delete('/uploads');
      assert.deepEqual(await openMultipartUploads(driver.client, config.bucket), []);
      assert.deepEqual(await bucketKeys(driver.client, config.bucket), ['team/registry/blobs/a/data']);
    });

    it('moves an object above the single-copy limit with a multipart copy, byte for byte', async () => {
      const content = randomBytes(12 * MiB + 3);
      const writer = await driver.writer('/uploads/big/data', false);
      await writer.write(content);
      await writer.commit();
      await driver.move('/uploads/big/data', '/blobs/big/data');
      assert.ok((await driver.getContent('/blobs/big/data')).equals(content));
      await assert.rejects(driver.stat('/uploads/big/data'));
      assert.deepEqual(await openMultipartUploads(driver.client, config.bucket), []);
    });

    it('gives no URL for clients unless redirects are on, then a presigned GET that serves the object', async () => {
      await driver.putContent('/blobs/u/data', Buffer.from('served by the store'));
      assert.equal(await driver.urlFor('/blobs/u/data'), null);
      const redirecting = new S3Driver({ ...config, redirect: true });
      try {
        const url = await redirecting.urlFor('/blobs/u/data');
        assert.ok(url?.startsWith(`${config.regionEndpoint}/${config.bucket}/team/registry/blobs/u/data?`), url ?? 'null');
        const response = await fetch(url!);
        assert.equal(response.status, 200);
        assert.equal(await response.text(), 'served by the store');
      } finally {
        redirecting.client.destroy();
      }
    });
  });
}
