// Blob pull, HEAD, byte ranges and delete, on both storage drivers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { digestOf, expectError, startTestRegistry, uploadBlob, type TestRegistry } from './harness.js';

for (const storage of ['memory', 'filesystem'] as const) {
  describe(`blobs (${storage} storage)`, () => {
    let registry: TestRegistry;
    // Larger than any stream buffer, so ranges cross chunk boundaries.
    const content = randomBytes(3 * 1024 * 1024 + 17);
    let digest: string;

    before(async () => {
      registry = await startTestRegistry({ storage });
      digest = await uploadBlob(registry.url, 'team/app', content);
    });
    after(() => registry.close());

    const blobUrl = (name = 'team/app', d = digest) => `${registry.url}/v2/${name}/blobs/${d}`;

    it('GET returns the bytes with length, digest, ETag and range support headers', async () => {
      const response = await fetch(blobUrl());
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-length'), String(content.length));
      assert.equal(response.headers.get('docker-content-digest'), digest);
      assert.equal(response.headers.get('etag'), `"${digest}"`);
      assert.equal(response.headers.get('accept-ranges'), 'bytes');
      assert.equal(response.headers.get('content-type'), 'application/octet-stream');
      assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(content));
    });

    it('HEAD returns the same headers and no body', async () => {
      const response = await fetch(blobUrl(), { method: 'HEAD' });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-length'), String(content.length));
      assert.equal(response.headers.get('docker-content-digest'), digest);
      assert.equal((await response.arrayBuffer()).byteLength, 0);
    });

    const partials: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=10-19', 10, 19],
      ['bytes=1048570-1048590', 1048570, 1048590],
      [`bytes=${content.length - 5}-`, content.length - 5, content.length - 1],
      ['bytes=-7', content.length - 7, content.length - 1],
      [`bytes=100-${content.length + 1000}`, 100, content.length - 1],
      [`bytes=-${content.length * 2}`, 0, content.length - 1],
      ['BYTES = 5-9', 5, 9],
    ];
    for (const [header, start, end] of partials) {
      it(`Range ${header} → 206 with bytes ${start}-${end}`, async () => {
        const response = await fetch(blobUrl(), { headers: { Range: header } });
        assert.equal(response.status, 206);
        assert.equal(response.headers.get('content-range'), `bytes ${start}-${end}/${content.length}`);
        assert.equal(response.headers.get('content-length'), String(end - start + 1));
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(content.subarray(start, end + 1)));
      });
    }

    for (const header of [`bytes=${content.length}-`, `bytes=${content.length + 10}-${content.length + 20}`, 'bytes=-0']) {
      it(`unsatisfiable Range ${header} → 416 with Content-Range bytes */size and a JSON body`, async () => {
        const response = await fetch(blobUrl(), { headers: { Range: header } });
        assert.equal(response.headers.get('content-range'), `bytes */${content.length}`);
        const raw = Buffer.from(await response.clone().arrayBuffer());
        assert.equal(response.headers.get('content-length'), String(raw.length));
        await expectError(response, 416, 'RANGE_INVALID');
      });
    }

    for (const header of ['bytes=0-1,5-6', 'bytes=abc', 'items=0-5', 'bytes=9-3', 'bytes=-', 'garbage']) {
      it(`Range ${header} is ignored → 200 with the whole blob`, async () => {
        const response = await fetch(blobUrl(), { headers: { Range: header } });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-range'), null);
        assert.equal(Buffer.from(await response.arrayBuffer()).length, content.length);
      });
    }

    it('HEAD with a Range answers 206 headers without a body', async () => {
      const response = await fetch(blobUrl(), { method: 'HEAD', headers: { Range: 'bytes=0-99' } });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get('content-length'), '100');
      assert.equal(response.headers.get('content-range'), `bytes 0-99/${content.length}`);
    });

    it('an empty blob is served with Content-Length 0', async () => {
      const empty = await uploadBlob(registry.url, 'team/app', Buffer.alloc(0));
      const response = await fetch(blobUrl('team/app', empty));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-length'), '0');
      assert.equal((await response.arrayBuffer()).byteLength, 0);
    });

    it('a blob is visible only in repositories that link it', async () => {
      await expectError(await fetch(blobUrl('team/other')), 404, 'BLOB_UNKNOWN');
      const head = await fetch(blobUrl('team/other'), { method: 'HEAD' });
      assert.equal(head.status, 404);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    it('an unknown digest is BLOB_UNKNOWN with the digest as detail', async () => {
      const unknown = digestOf('never pushed');
      const error = await expectError(await fetch(blobUrl('team/app', unknown)), 404, 'BLOB_UNKNOWN');
      assert.deepEqual(error.detail, { digest: unknown });
    });

    it('DELETE unlinks the blob from one repository only (202, then 404)', async () => {
      const shared = Buffer.from(`shared ${storage}`);
      const sharedDigest = await uploadBlob(registry.url, 'team/one', shared);
      await uploadBlob(registry.url, 'team/two', shared);
      const deleted = await fetch(blobUrl('team/one', sharedDigest), { method: 'DELETE' });
      assert.equal(deleted.status, 202);
      assert.equal(deleted.headers.get('content-length'), '0');
      await expectError(await fetch(blobUrl('team/one', sharedDigest)), 404, 'BLOB_UNKNOWN');
      await expectError(await fetch(blobUrl('team/one', sharedDigest), { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
      const stillThere = await fetch(blobUrl('team/two', sharedDigest));
      assert.equal(stillThere.status, 200);
      assert.ok(Buffer.from(await stillThere.arrayBuffer()).equals(shared));
    });

    it('a linked blob whose content is gone is BLOB_UNKNOWN, not a 500', async () => {
      const bytes = Buffer.from(`collected ${storage}`);
      const collected = await uploadBlob(registry.url, 'team/app', bytes);
      const [algorithm, encoded] = collected.split(':') as ['sha256', string];
      assert.equal(await registry.blobs.delete({ algorithm, encoded, value: collected }), true);
      await expectError(await fetch(blobUrl('team/app', collected)), 404, 'BLOB_UNKNOWN');
    });
  });
}
