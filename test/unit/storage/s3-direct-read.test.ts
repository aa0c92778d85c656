// The S3 driver's large-object paths beyond the storage contract, against a real Ceph RGW
// (behind a TCP proxy a test can cut): reads through the direct GET (s3/direct-reader.ts)
// resume where a cut connection stopped, fail in the driver's error terms, and a blob GET
// whose store goes away mid-body is aborted, never ended as if complete; a suspended writer
// uploads a tail of at least 5 MiB as a part of its own size instead of carrying it over.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { S3DirectReader } from '../../../services/registry/storage/drivers/s3/direct-reader.js';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import { KeySpace } from '../../../services/registry/storage/drivers/s3/keys.js';
import type { S3StorageConfig } from '../../../shared/config/index.js';
import { startTestRegistry, uploadBlob } from '../../api/registry/harness.js';
import { TcpProxy } from '../../reliability/support/tcp-proxy.js';
import { rgw, s3SuiteGate, s3TestConfig } from '../../support/ceph-rgw.js';

const MiB = 1024 * 1024;

if (await s3SuiteGate('S3 direct reads and variable parts')) {
  describe('S3 driver: direct reads of large objects and variable-size parts (Ceph RGW)', () => {
    let config: S3StorageConfig;
    let proxy: TcpProxy;
    let direct: S3Driver;
    /** Through the proxy, every openReader on the direct path. */
    let proxied: S3Driver;
    const content = randomBytes(12 * MiB + 5);

    before(async () => {
      const upstream = new URL((await rgw()).endpoint);
      proxy = new TcpProxy(upstream.hostname, Number(upstream.port));
      await proxy.start();
      config = await s3TestConfig({ chunkSize: 10 * MiB });
      direct = new S3Driver(config);
      proxied = new S3Driver({ ...config, regionEndpoint: `http://127.0.0.1:${proxy.port}` }, undefined, 0);
      await direct.putContent('/blobs/big', content);
    });
    after(async () => {
      for (const path of await direct.list('/')) await direct.delete(path);
      direct.client.destroy();
      proxied.client.destroy();
      await proxy.cut();
    });

    it('resumes a download cut mid-body at the byte where it stopped', async () => {
      const reader = await proxied.openReader('/blobs/big');
      const buffer = Buffer.alloc(content.length);
      assert.equal(await reader.read(buffer, MiB, 0), MiB);
      await proxy.cut();
      await proxy.start();
      let position = MiB;
      while (position < content.length) position += await reader.read(buffer.subarray(position), Math.min(3 * MiB, content.length - position), position);
      await reader.close();
      assert.ok(buffer.equals(content));
    });

    it('fails with StorageUnavailableError once the store stays away, and PathNotFoundError for an object gone', async () => {
      const reader = await proxied.openReader('/blobs/big');
      await proxy.cut();
      try {
        await assert.rejects(reader.read(Buffer.alloc(10), 10, 0), (err: unknown) => err instanceof StorageUnavailableError && /ECONNREFUSED/.test(err.message));
      } finally {
        await proxy.start();
      }
      await direct.putContent('/blobs/gone', content.subarray(0, 100));
      const orphan = await proxied.openReader('/blobs/gone');
      await direct.delete('/blobs/gone');
      await assert.rejects(orphan.read(Buffer.alloc(10), 10, 0), PathNotFoundError);
    });

    it('maps refused credentials and a missing bucket to StorageUnavailableError, not PathNotFoundError', async () => {
      for (const [broken, message] of [
        [{ ...config, secretKey: 'not-the-secret' }, /SignatureDoesNotMatch|AccessDenied|HTTP 403/],
        [{ ...config, bucket: `${config.bucket}-missing` }, /NoSuchBucket/],
      ] as const) {
        const driver = new S3Driver(broken);
        // Built by hand: openReader's HEAD would fail first, and the reader is what is under test.
        const ctx = { client: driver.client, bucket: broken.bucket, keys: new KeySpace(broken.rootDirectory), partSize: broken.chunkSize };
        const reader = new S3DirectReader(ctx, '/blobs/big', content.length, true);
        await assert.rejects(reader.read(Buffer.alloc(10), 10, 0), (err: unknown) => {
          assert.ok(err instanceof StorageUnavailableError, String(err));
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /not-the-secret/);
          return true;
        });
        driver.client.destroy();
      }
    });

    it('aborts a blob GET whose store goes away mid-body instead of ending it short', async () => {
      const registry = await startTestRegistry({ driver: proxied });
      try {
        const blob = randomBytes(40 * MiB);
        const digest = await uploadBlob(registry.url, 'team/app', blob);
        const response = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
        assert.equal(response.status, 200);
        const body = response.body!.getReader();
        let received = (await body.read()).value?.length ?? 0;
        await proxy.cut();
        await assert.rejects(
          (async () => {
            for (;;) {
              const next = await body.read();
              if (next.done) break;
              received += next.value.length;
            }
          })(),
          /terminated|aborted|closed|other side/i,
        );
        assert.ok(received < blob.length, `received ${received} of ${blob.length}`);
      } finally {
        await proxy.start();
        await registry.close();
      }
    });

    it('uploads a suspended tail of 5 MiB or more as a part of its own size, and carries only a smaller one', async () => {
      const chunks = [8 * MiB, 8 * MiB, 3 * MiB, 8 * MiB].map((size) => randomBytes(size));
      const key = 'uploads/u/data';
      const partSizes = async (): Promise<number[]> => {
        const uploads = await direct.client.send(new ListMultipartUploadsCommand({ Bucket: config.bucket, Prefix: key }));
        const UploadId = uploads.Uploads?.[0]?.UploadId;
        const parts = await direct.client.send(new ListPartsCommand({ Bucket: config.bucket, Key: key, UploadId }));
        return (parts.Parts ?? []).map((p) => p.Size! / MiB);
      };
      const stateBytes = async (): Promise<number> =>
        (await direct.client.send(new HeadObjectCommand({ Bucket: config.bucket, Key: `${key}/.writer` }))).ContentLength!;
      const seen: Array<{ parts: number[]; state: number }> = [];
      for (const chunk of chunks.slice(0, 3)) {
        const writer = await direct.writer(`/${key}`, true);
        await writer.write(chunk);
        await writer.suspend();
        seen.push({ parts: await partSizes(), state: await stateBytes() });
      }
      assert.deepEqual(seen.map((s) => s.parts), [[8], [8, 8], [8, 8]]);
      assert.ok(seen[0]!.state < 1024 && seen[1]!.state < 1024, `state objects of ${seen.map((s) => s.state)} bytes`);
      assert.ok(seen[2]!.state > 3 * MiB, 'a 3 MiB tail is carried in the state');
      const last = await direct.writer(`/${key}`, true);
      await last.write(chunks[3]!);
      assert.equal(last.size, 27 * MiB);
      await last.commit();
      assert.ok((await direct.getContent(`/${key}`)).equals(Buffer.concat(chunks)));
    });
  });
}
