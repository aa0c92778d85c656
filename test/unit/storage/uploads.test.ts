import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DockyardError } from '../../../shared/http/errors.js';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import { blobDataPath, uploadDataPath, uploadInfoPath } from '../../../services/registry/storage/paths.js';
import { UploadManager } from '../../../services/registry/storage/uploads.js';
import { CountingDriver, DRIVER_CASES, digestFor, type DriverCase } from './helpers.js';

const REPO = 'library/app';
const OWNER = 'alice';

function isCode(code: string, status?: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof DockyardError, `expected DockyardError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (status !== undefined) assert.equal(err.status, status);
    return true;
  };
}

function body(...parts: Array<string | Buffer>): Readable {
  return Readable.from(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

/** A body that delivers some bytes and then fails, like a client that hangs up. */
function abortingBody(sent: string): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from(sent);
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    })(),
  );
}

for (const { name, make } of DRIVER_CASES) {
  describe(`UploadManager on ${name}`, () => {
    let fixture: DriverCase;
    let driver: CountingDriver;
    let blobs: BlobStore;
    let uploads: UploadManager;

    /** Reads of upload data, i.e. digests that could not come from the running hash. */
    const uploadReads = () => driver.readerPaths.filter((p) => p.startsWith('/uploads/')).length;

    beforeEach(async () => {
      fixture = await make();
      driver = new CountingDriver(fixture.driver);
      blobs = new BlobStore(driver);
      uploads = new UploadManager(driver, blobs);
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('starts a session with a UUID v4 id that get() finds again', async () => {
      const session = await uploads.start(REPO, OWNER);
      assert.match(session.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(session.offset, 0);
      assert.equal(uploads.activeCount, 1);
      const again = await uploads.get(REPO, session.id, OWNER);
      assert.deepEqual(again, session);
    });

    it('refuses to start a session for an invalid repository name', async () => {
      await assert.rejects(uploads.start('../etc', OWNER), isCode('NAME_INVALID'));
    });

    it('completes a monolithic upload and removes the session', async () => {
      const bytes = randomBytes(10_000);
      const session = await uploads.start(REPO, OWNER);
      const digest = digestFor(bytes);
      const result = await uploads.complete(REPO, session.id, OWNER, digest, body(bytes), { length: bytes.length });
      assert.deepEqual(result, { digest, size: bytes.length });
      assert.deepEqual(await blobs.getBytes(digest), bytes);
      await assert.rejects(uploads.get(REPO, session.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      await assert.rejects(driver.stat(`/uploads/${session.id}`));
      assert.equal(uploads.activeCount, 0);
      assert.equal(uploadReads(), 0);
    });

    it('carries the hash across chunked appends without re-reading', async () => {
      const parts = [randomBytes(70_000), randomBytes(1), randomBytes(200_000)];
      const session = await uploads.start(REPO, OWNER);
      let offset = 0;
      for (const part of parts) {
        const after = await uploads.append(REPO, session.id, OWNER, body(part), { start: offset, length: part.length });
        offset += part.length;
        assert.equal(after.offset, offset);
      }
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, offset);
      const whole = Buffer.concat(parts);
      const result = await uploads.complete(REPO, session.id, OWNER, digestFor(whole));
      assert.equal(result.size, whole.length);
      assert.ok((await fixture.driver.getContent(blobDataPath(digestFor(whole)))).equals(whole));
      assert.equal(uploadReads(), 0);
    });

    it('streams a multi-megabyte body chunk by chunk', async () => {
      const pieces = Array.from({ length: 80 }, () => randomBytes(64 * 1024));
      const session = await uploads.start(REPO, OWNER);
      const whole = Buffer.concat(pieces);
      const result = await uploads.complete(REPO, session.id, OWNER, digestFor(whole), Readable.from(pieces));
      assert.equal(result.size, whole.length);
      assert.deepEqual(await blobs.stat(digestFor(whole)), { size: whole.length });
    });

    it('completes an empty blob', async () => {
      const session = await uploads.start(REPO, OWNER);
      const digest = digestFor(Buffer.alloc(0));
      assert.deepEqual(await uploads.complete(REPO, session.id, OWNER, digest), { digest, size: 0 });
      assert.deepEqual(await blobs.stat(digest), { size: 0 });
    });

    it('a restarted process (new manager, same storage) completes correctly by re-reading once', async () => {
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body('first half, '), { start: 0 });
      const restarted = new UploadManager(driver, new BlobStore(driver));
      const resumed = await restarted.get(REPO, session.id, OWNER);
      assert.equal(resumed.offset, 12);
      await restarted.append(REPO, session.id, OWNER, body('second half'), { start: 12 });
      const digest = digestFor(Buffer.from('first half, second half'));
      assert.deepEqual(await restarted.complete(REPO, session.id, OWNER, digest), { digest, size: 23 });
      assert.equal(uploadReads(), 1);
    });

    it('a stale running hash is not trusted when another replica appended meanwhile', async () => {
      const replica = new UploadManager(driver, new BlobStore(driver));
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body('one '));
      await replica.append(REPO, session.id, OWNER, body('two '), { start: 4 });
      await uploads.append(REPO, session.id, OWNER, body('three'), { start: 8 });
      const digest = digestFor(Buffer.from('one two three'));
      assert.deepEqual(await uploads.complete(REPO, session.id, OWNER, digest), { digest, size: 13 });
    });

    it('verifies sha512 digests by re-reading the data once', async () => {
      const bytes = randomBytes(300_000);
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body(bytes.subarray(0, 100_000)));
      const digest = digestFor(bytes, 'sha512');
      const result = await uploads.complete(REPO, session.id, OWNER, digest, body(bytes.subarray(100_000)));
      assert.deepEqual(result, { digest, size: bytes.length });
      assert.ok((await fixture.driver.getContent(blobDataPath(digest))).equals(bytes));
      assert.equal(uploadReads(), 1);
    });

    it('rejects a wrong digest with DIGEST_INVALID and removes the session', async () => {
      const session = await uploads.start(REPO, OWNER);
      const claimed = digestFor(Buffer.from('something else'));
      await assert.rejects(uploads.complete(REPO, session.id, OWNER, claimed, body('actual bytes')), isCode('DIGEST_INVALID', 400));
      await assert.rejects(uploads.get(REPO, session.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      assert.equal(await blobs.stat(claimed), null);
      assert.equal(await blobs.stat(digestFor(Buffer.from('actual bytes'))), null);
      assert.equal(uploads.activeCount, 0);
    });

    it('answers an out-of-order chunk with 416, Range and Docker-Upload-UUID', async () => {
      const session = await uploads.start(REPO, OWNER);
      const atZero = await uploads.append(REPO, session.id, OWNER, body('x'), { start: 3 }).catch((e: unknown) => e);
      assert.ok(isCode('RANGE_INVALID', 416)(atZero));
      assert.deepEqual((atZero as DockyardError).headers, { Range: '0-0', 'Docker-Upload-UUID': session.id });
      await uploads.append(REPO, session.id, OWNER, body('12345'), { start: 0 });
      const ahead = await uploads.append(REPO, session.id, OWNER, body('x'), { start: 7 }).catch((e: unknown) => e);
      assert.deepEqual((ahead as DockyardError).headers, { Range: '0-4', 'Docker-Upload-UUID': session.id });
      const behind = await uploads.append(REPO, session.id, OWNER, body('x'), { start: 2 }).catch((e: unknown) => e);
      assert.ok(isCode('RANGE_INVALID', 416)(behind));
      const final = await uploads.complete(REPO, session.id, OWNER, digestFor(Buffer.from('12345x')), body('x'), { start: 1 }).catch((e: unknown) => e);
      assert.ok(isCode('RANGE_INVALID', 416)(final));
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 5);
    });

    it('serialises concurrent appends to one session: one wins, the other gets 416', async () => {
      const session = await uploads.start(REPO, OWNER);
      const results = await Promise.allSettled([
        uploads.append(REPO, session.id, OWNER, body('aaaa'), { start: 0 }),
        uploads.append(REPO, session.id, OWNER, body('bbbb'), { start: 0 }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(isCode('RANGE_INVALID', 416)(rejected.reason));
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 4);
    });

    it('discards the bytes of a request whose length lies, and stays consistent', async () => {
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body('good-'));
      await assert.rejects(uploads.append(REPO, session.id, OWNER, body('short'), { length: 10 }), isCode('SIZE_INVALID', 400));
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 5);
      const tooLong = body('0123456789', 'more bytes than declared');
      await assert.rejects(uploads.append(REPO, session.id, OWNER, tooLong, { length: 3 }), isCode('SIZE_INVALID', 400));
      assert.equal(tooLong.destroyed, false, 'a lying body is left for the HTTP layer, not torn down');
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 5);
      await assert.rejects(
        uploads.complete(REPO, session.id, OWNER, digestFor(Buffer.from('good-end')), body('end!'), { length: 3 }),
        isCode('SIZE_INVALID'),
      );
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 5);
      const digest = digestFor(Buffer.from('good-end'));
      assert.deepEqual(await uploads.complete(REPO, session.id, OWNER, digest, body('end'), { length: 3 }), { digest, size: 8 });
      assert.equal(uploadReads(), 0);
    });

    it('keeps the session usable at its last good offset after an aborted body', async () => {
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body('kept|'));
      await assert.rejects(uploads.append(REPO, session.id, OWNER, abortingBody('lost bytes')), { code: 'ECONNRESET' });
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 5);
      assert.equal((await fixture.driver.getContent(uploadDataPath(session.id))).toString(), 'kept|');
      await uploads.append(REPO, session.id, OWNER, body('resumed'), { start: 5 });
      const digest = digestFor(Buffer.from('kept|resumed'));
      assert.deepEqual(await uploads.complete(REPO, session.id, OWNER, digest), { digest, size: 12 });
      assert.equal(uploadReads(), 0);
    });

    it('drops the upload when the blob already exists', async () => {
      const bytes = Buffer.from('shared layer');
      const digest = await blobs.putBytes(bytes, 'sha256');
      const session = await uploads.start('other/repo', OWNER);
      assert.deepEqual(await uploads.complete('other/repo', session.id, OWNER, digest, body(bytes)), { digest, size: bytes.length });
      assert.deepEqual(await blobs.getBytes(digest), bytes);
      assert.deepEqual(await fixture.driver.list('/uploads'), []);
    });

    it('hides a session from other repositories, other owners and malformed ids', async () => {
      const session = await uploads.start(REPO, OWNER);
      await assert.rejects(uploads.get('other/repo', session.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN', 404));
      await assert.rejects(uploads.get(REPO, session.id, 'mallory'), isCode('BLOB_UPLOAD_UNKNOWN', 404));
      await assert.rejects(uploads.append('other/repo', session.id, OWNER, body('x')), isCode('BLOB_UPLOAD_UNKNOWN'));
      await assert.rejects(uploads.append(REPO, session.id, 'mallory', body('x')), isCode('BLOB_UPLOAD_UNKNOWN'));
      await assert.rejects(
        uploads.complete(REPO, session.id, 'mallory', digestFor(Buffer.alloc(0))),
        isCode('BLOB_UPLOAD_UNKNOWN'),
      );
      await assert.rejects(uploads.cancel(REPO, session.id, 'mallory'), isCode('BLOB_UPLOAD_UNKNOWN'));
      for (const bad of ['', 'not-a-uuid', '../../blobs', session.id.toUpperCase(), `${session.id}/..`]) {
        await assert.rejects(uploads.get(REPO, bad, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      }
      await assert.rejects(uploads.get(REPO, '1b4e28ba-2fa1-41d2-883f-0016d3cca427', OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      assert.equal((await uploads.get(REPO, session.id, OWNER)).offset, 0);
    });

    it('treats a session with corrupt metadata as unknown', async () => {
      const session = await uploads.start(REPO, OWNER);
      await fixture.driver.putContent(uploadInfoPath(session.id), Buffer.from('{not json'));
      await assert.rejects(uploads.get(REPO, session.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
    });

    it('cancel removes the session and its bytes', async () => {
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body('partial'));
      await uploads.cancel(REPO, session.id, OWNER);
      await assert.rejects(uploads.get(REPO, session.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      await assert.rejects(uploads.cancel(REPO, session.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      assert.deepEqual(await fixture.driver.list('/uploads'), []);
      assert.equal(uploads.activeCount, 0);
    });

    it('purges sessions started before the cut-off and keeps younger ones', async () => {
      const old = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, old.id, OWNER, body('stale bytes'));
      const info = { repository: REPO, owner: OWNER, startedAt: new Date(Date.now() - 3 * 86_400_000).toISOString() };
      await fixture.driver.putContent(uploadInfoPath(old.id), Buffer.from(JSON.stringify(info)));
      const young = await uploads.start(REPO, OWNER);
      assert.equal(await uploads.purgeOlderThan(86_400_000), 1);
      await assert.rejects(uploads.get(REPO, old.id, OWNER), isCode('BLOB_UPLOAD_UNKNOWN'));
      assert.equal((await uploads.get(REPO, young.id, OWNER)).offset, 0);
      assert.equal(uploads.activeCount, 1);
      assert.deepEqual(await fixture.driver.list('/uploads'), [`/uploads/${young.id}`]);
    });

    it('purges orphaned session directories that lost their metadata', async () => {
      const session = await uploads.start(REPO, OWNER);
      await uploads.append(REPO, session.id, OWNER, body('orphan'));
      await fixture.driver.delete(uploadInfoPath(session.id));
      assert.equal(await uploads.purgeOlderThan(86_400_000), 0);
      assert.equal(await uploads.purgeOlderThan(0), 1);
      assert.deepEqual(await fixture.driver.list('/uploads'), []);
      assert.equal(uploads.activeCount, 0);
    });

    it('purge on an empty store removes nothing', async () => {
      assert.equal(await uploads.purgeOlderThan(0), 0);
    });
  });
}
