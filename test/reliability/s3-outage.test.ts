// The S3 store going away while the registry runs (a TCP proxy in front of the Ceph RGW is
// cut, then restored on the same port): requests that need it get JSON 503 UNAVAILABLE, a
// PATCH that loses the store halfway leaves its session at the last good offset, no blob
// becomes half-visible, and once the store is back the same session completes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { S3Driver } from '../../services/registry/storage/drivers/s3/index.js';
import type { S3StorageConfig } from '../../shared/config/index.js';
import { digestOf, expectError, startTestRegistry, type TestRegistry } from '../api/registry/harness.js';
import { rgw, s3SuiteGate, s3TestConfig } from '../support/ceph-rgw.js';
import { heldBody } from '../support/held-body.js';
import { TcpProxy } from './support/tcp-proxy.js';

const MiB = 1024 * 1024;

/** Parts uploaded so far to the open multipart upload at `key`. */
async function uploadedParts(driver: S3Driver, bucket: string, key: string): Promise<number> {
  const uploads = await driver.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  const upload = uploads.Uploads?.find((u) => u.Key === key);
  if (!upload) return 0;
  const parts = await driver.client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }));
  return parts.Parts?.length ?? 0;
}

if (await s3SuiteGate('S3 outage while running')) {
  describe('S3 store outage while the registry runs (Ceph RGW behind a cut proxy)', () => {
    let proxy: TcpProxy;
    let driver: S3Driver;
    let registry: TestRegistry;
    let direct: S3Driver;
    let config: S3StorageConfig;

    before(async () => {
      const upstream = new URL((await rgw()).endpoint);
      proxy = new TcpProxy(upstream.hostname, Number(upstream.port));
      await proxy.start();
      config = await s3TestConfig();
      direct = new S3Driver(config);
      driver = new S3Driver({ ...config, regionEndpoint: `http://127.0.0.1:${proxy.port}` });
      registry = await startTestRegistry({ driver });
    });
    after(async () => {
      await registry.close();
      driver.client.destroy();
      direct.client.destroy();
      await proxy.cut();
    });

    it('503 while the store is gone, the session kept at its last good offset, and completion once it is back', async () => {
      const content = randomBytes(15 * MiB);
      const location = (await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
      const first = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: content.subarray(0, 6 * MiB), headers: { 'Content-Range': `0-${6 * MiB - 1}` } });
      assert.equal(first.status, 202);

      // The store goes away in the middle of the next PATCH, after a part of it went up.
      const rest = content.subarray(6 * MiB, 13 * MiB);
      const { body, release } = heldBody(rest, 5 * MiB);
      const dying = fetch(`${registry.url}${location}`, {
        method: 'PATCH',
        body,
        duplex: 'half',
        headers: { 'Content-Range': `${6 * MiB}-${13 * MiB - 1}`, 'Content-Length': String(rest.length) },
      } as RequestInit);
      // Sync point only: the store (seen directly, not through the proxy) has this PATCH's part.
      const id = location.split('/').pop()!;
      for (let i = 0; i < 200 && (await uploadedParts(direct, config.bucket, `uploads/${id}/data`)) < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await proxy.cut();
      release();
      await expectError(await dying, 503, 'UNAVAILABLE');

      // Everything that needs the store answers 503 meanwhile; nothing becomes visible.
      await expectError(await fetch(`${registry.url}${location}`), 503, 'UNAVAILABLE');
      const other = randomBytes(1000);
      await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digestOf(other)}`, { method: 'POST', body: other }), 503, 'UNAVAILABLE');
      const ready = await fetch(`${registry.url}/readyz`);
      assert.equal(ready.status, 503);

      await proxy.start();
      assert.equal((await fetch(`${registry.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${registry.url}/v2/team/app/blobs/${digestOf(other)}`, { method: 'HEAD' })).status, 404);
      const status = await fetch(`${registry.url}${location}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${6 * MiB - 1}`);
      const digest = digestOf(content);
      const done = await fetch(`${registry.url}${location}?digest=${digest}`, {
        method: 'PUT',
        body: content.subarray(6 * MiB),
        headers: { 'Content-Range': `${6 * MiB}-${content.length - 1}` },
      });
      assert.equal(done.status, 201, await done.clone().text());
      assert.ok(Buffer.from(await (await fetch(`${registry.url}/v2/team/app/blobs/${digest}`)).arrayBuffer()).equals(content));
    });
  });
}
