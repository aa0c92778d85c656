import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DockyardError } from '../../../shared/http/errors.js';
import type { Digest } from '../../../shared/grammar/reference.js';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import type { StorageDriver } from '../../../services/registry/storage/driver.js';
import { blobDataPath } from '../../../services/registry/storage/paths.js';
import { digestFor, DRIVER_CASES, type DriverCase } from './helpers.js';

/** Bytes [position, position + length) through BlobStore.open, closing the reader. */
async function readAt(blobs: BlobStore, digest: Digest, position: number, length: number): Promise<Buffer> {
  const reader = await blobs.open(digest);
  try {
    const buffer = Buffer.alloc(length);
    const got = await reader.read(buffer, length, position);
    return buffer.subarray(0, got);
  } finally {
    await reader.close();
  }
}

function isCode(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof DockyardError, `expected DockyardError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

for (const { name, make } of DRIVER_CASES) {
  describe(`BlobStore on ${name}`, () => {
    let fixture: DriverCase;
    let driver: StorageDriver;
    let blobs: BlobStore;

    beforeEach(async () => {
      fixture = await make();
      driver = fixture.driver;
      blobs = new BlobStore(driver);
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('stores bytes under their sha256 digest and reads them back', async () => {
      const bytes = Buffer.from('{"schemaVersion":2}');
      const digest = await blobs.putBytes(bytes, 'sha256');
      assert.deepEqual(digest, digestFor(bytes));
      assert.deepEqual(await blobs.stat(digest), { size: bytes.length });
      assert.deepEqual(await blobs.getBytes(digest), bytes);
      assert.deepEqual(await readAt(blobs, digest, 0, bytes.length), bytes);
      assert.deepEqual(await driver.getContent(blobDataPath(digest)), bytes);
    });

    it('stores sha512 content under its sha512 digest', async () => {
      const bytes = randomBytes(1000);
      const digest = await blobs.putBytes(bytes, 'sha512');
      assert.deepEqual(digest, digestFor(bytes, 'sha512'));
      assert.deepEqual(await driver.getContent(blobDataPath(digest)), bytes);
    });

    it('putBytes is idempotent', async () => {
      const bytes = Buffer.from('same');
      const first = await blobs.putBytes(bytes, 'sha256');
      const second = await blobs.putBytes(bytes, 'sha256');
      assert.deepEqual(first, second);
      assert.deepEqual(await blobs.getBytes(first), bytes);
    });

    it('reads at a position, short at the end', async () => {
      const digest = await blobs.putBytes(Buffer.from('0123456789'), 'sha256');
      assert.equal((await readAt(blobs, digest, 2, 4)).toString(), '2345');
      assert.equal((await readAt(blobs, digest, 9, 4)).toString(), '9');
      assert.equal((await readAt(blobs, digest, 10, 4)).length, 0);
    });

    it('reports absent blobs: stat null, open and getBytes BLOB_UNKNOWN, delete false', async () => {
      const digest = digestFor(Buffer.from('never stored'));
      assert.equal(await blobs.stat(digest), null);
      await assert.rejects(blobs.open(digest), isCode('BLOB_UNKNOWN'));
      await assert.rejects(blobs.getBytes(digest), isCode('BLOB_UNKNOWN'));
      assert.equal(await blobs.delete(digest), false);
    });

    it('delete removes the content and evicts it from the cache', async () => {
      const digest = await blobs.putBytes(Buffer.from('manifest'), 'sha256');
      await blobs.getBytes(digest);
      assert.equal(await blobs.delete(digest), true);
      assert.equal(await blobs.stat(digest), null);
      await assert.rejects(blobs.getBytes(digest), isCode('BLOB_UNKNOWN'));
      assert.equal(await blobs.delete(digest), false);
    });

    it('serves small blobs from its cache once read', async () => {
      const digest = await blobs.putBytes(Buffer.from('cached manifest'), 'sha256');
      const reader = new BlobStore(driver);
      assert.equal((await reader.getBytes(digest)).toString(), 'cached manifest');
      // Remove the bytes behind the cache's back: only a cache can still answer.
      await driver.delete(blobDataPath(digest));
      assert.equal((await reader.getBytes(digest)).toString(), 'cached manifest');
    });

    it('hands out copies, so callers cannot alter the cached bytes', async () => {
      const input = Buffer.from('immutable');
      const digest = await blobs.putBytes(input, 'sha256');
      input.fill(0);
      const first = await blobs.getBytes(digest);
      first.fill(0);
      assert.equal((await blobs.getBytes(digest)).toString(), 'immutable');
      const fresh = new BlobStore(driver);
      (await fresh.getBytes(digest)).fill(0);
      assert.equal((await fresh.getBytes(digest)).toString(), 'immutable');
    });

    it('does not cache blobs above 64 KiB', async () => {
      const digest = await blobs.putBytes(randomBytes(64 * 1024 + 1), 'sha256');
      await blobs.getBytes(digest);
      await driver.delete(blobDataPath(digest));
      await assert.rejects(blobs.getBytes(digest), isCode('BLOB_UNKNOWN'));
    });

    it('bounds the cache at 32 MiB, evicting the least recently used', async () => {
      const digests = [];
      for (let i = 0; i < 520; i++) digests.push(await blobs.putBytes(randomBytes(64 * 1024), 'sha256'));
      for (const digest of digests) await driver.delete(blobDataPath(digest));
      // 520 × 64 KiB exceeds 32 MiB (512 entries): the oldest eight are gone.
      await assert.rejects(blobs.getBytes(digests[0]!), isCode('BLOB_UNKNOWN'));
      await assert.rejects(blobs.getBytes(digests[7]!), isCode('BLOB_UNKNOWN'));
      assert.equal((await blobs.getBytes(digests[8]!)).length, 64 * 1024);
      assert.equal((await blobs.getBytes(digests[519]!)).length, 64 * 1024);
    });

    it('refuses to load a huge blob whole', async () => {
      const writer = await driver.writer(blobDataPath(digestFor(Buffer.from('huge'))), false);
      await writer.write(Buffer.alloc(17 * 1024 * 1024));
      await writer.commit();
      await assert.rejects(blobs.getBytes(digestFor(Buffer.from('huge'))), RangeError);
    });
  });
}
