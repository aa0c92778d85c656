/**
 * The one behaviour suite every StorageDriver must pass. Drivers differ in where bytes
 * live, never in what a caller observes; anything a driver test file needs beyond this
 * suite is about that driver's medium (durability, temp files), not its semantics.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidPathError, PathNotFoundError, type StorageDriver } from '../../services/registry/storage/driver.js';

/** What a driver factory hands the suite: a fresh, empty driver and how to dispose of it. */
export interface DriverFixture {
  driver: StorageDriver;
  cleanup: () => Promise<void>;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function isNotFound(path: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof PathNotFoundError, `expected PathNotFoundError, got ${String(err)}`);
    assert.equal(err.path, path);
    return true;
  };
}

function isInvalidPath(err: unknown): boolean {
  assert.ok(err instanceof InvalidPathError, `expected InvalidPathError, got ${String(err)}`);
  return true;
}

const INVALID_PATHS = [
  '',
  'relative',
  'a/b',
  '/a/../b',
  '/..',
  '/.',
  '/a/./b',
  '/a/..',
  '//a',
  '/a//b',
  '/a/',
  '/a/b/',
  '/é',
  '/a/ü/b',
  '/日本',
  '/a b',
  '/a\\b',
  '/a\u0000b',
  '/.hidden',
  `/${'x'.repeat(5000)}`,
];

/** Registers the storage driver contract for one implementation. */
export function runStorageDriverContract(name: string, makeDriver: () => Promise<DriverFixture>): void {
  describe(`StorageDriver contract: ${name}`, () => {
    let fixture: DriverFixture;
    let driver: StorageDriver;

    beforeEach(async () => {
      fixture = await makeDriver();
      driver = fixture.driver;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('putContent / getContent', () => {
      it('round-trips bytes, including empty and binary content', async () => {
        const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        await driver.putContent('/a/binary', binary);
        await driver.putContent('/a/empty', Buffer.alloc(0));
        assert.deepEqual(await driver.getContent('/a/binary'), binary);
        assert.deepEqual(await driver.getContent('/a/empty'), Buffer.alloc(0));
      });

      it('without durability still replaces whole and reads back, leaving no temp file', async () => {
        await driver.putContent('/scratch/info', Buffer.from('a longer first version'), { durable: false });
        await driver.putContent('/scratch/info', Buffer.from('short'), { durable: false });
        assert.equal((await driver.getContent('/scratch/info')).toString(), 'short');
        assert.deepEqual(await driver.list('/scratch'), ['/scratch/info']);
      });

      it('replaces existing content whole', async () => {
        await driver.putContent('/f', Buffer.from('a longer first version'));
        await driver.putContent('/f', Buffer.from('short'));
        assert.equal((await driver.getContent('/f')).toString(), 'short');
      });

      it('stores a multi-megabyte object intact', async () => {
        const big = randomBytes(3 * 1024 * 1024 + 17);
        await driver.putContent('/big/object', big);
        assert.ok((await driver.getContent('/big/object')).equals(big));
      });

      it('keeps its own copy of the bytes', async () => {
        const data = Buffer.from('original');
        await driver.putContent('/copy', data);
        data.fill(0);
        assert.equal((await driver.getContent('/copy')).toString(), 'original');
      });

      it('leaves one complete version when writes to a path race', async () => {
        const versions = Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024 + i, i));
        await Promise.all(versions.map((v) => driver.putContent('/race/object', v)));
        const final = await driver.getContent('/race/object');
        assert.ok(versions.some((v) => v.equals(final)), 'content is one of the written versions');
        assert.deepEqual(await driver.list('/race'), ['/race/object']);
      });

      it('reports a missing path as PathNotFoundError', async () => {
        await assert.rejects(driver.getContent('/nope'), isNotFound('/nope'));
        await driver.putContent('/dir/file', Buffer.from('x'));
        await assert.rejects(driver.getContent('/dir/other'), isNotFound('/dir/other'));
        await assert.rejects(driver.getContent('/dir/file/below'), isNotFound('/dir/file/below'));
      });

      it('treats a directory as no object', async () => {
        await driver.putContent('/dir/file', Buffer.from('x'));
        await assert.rejects(driver.getContent('/dir'), isNotFound('/dir'));
      });

      it('refuses to write beneath a file and keeps the file', async () => {
        await driver.putContent('/file', Buffer.from('keep'));
        await assert.rejects(driver.putContent('/file/child', Buffer.from('x')));
        assert.equal((await driver.getContent('/file')).toString(), 'keep');
      });
    });

    describe('invalid paths', () => {
      for (const bad of INVALID_PATHS) {
        it(`every method rejects ${JSON.stringify(bad.slice(0, 20))}`, async () => {
          await driver.putContent('/ok', Buffer.from('x'));
          await assert.rejects(driver.getContent(bad), isInvalidPath);
          await assert.rejects(driver.putContent(bad, Buffer.from('x')), isInvalidPath);
          await assert.rejects(driver.reader(bad), isInvalidPath);
          await assert.rejects(driver.writer(bad, true), isInvalidPath);
          await assert.rejects(driver.stat(bad), isInvalidPath);
          await assert.rejects(driver.list(bad), isInvalidPath);
          await assert.rejects(driver.move('/ok', bad), isInvalidPath);
          await assert.rejects(driver.move(bad, '/ok2'), isInvalidPath);
          await assert.rejects(driver.delete(bad), isInvalidPath);
          assert.equal((await driver.getContent('/ok')).toString(), 'x');
          assert.deepEqual(await driver.list('/'), ['/ok']);
        });
      }

      it('refuses to write to or delete the root', async () => {
        await driver.putContent('/keep', Buffer.from('x'));
        await assert.rejects(driver.putContent('/', Buffer.from('x')), isInvalidPath);
        await assert.rejects(driver.writer('/', false), isInvalidPath);
        await assert.rejects(driver.delete('/'), isInvalidPath);
        assert.deepEqual(await driver.list('/'), ['/keep']);
      });
    });

    describe('reader', () => {
      const content = Buffer.from('0123456789abcdefghij');

      beforeEach(async () => {
        await driver.putContent('/r/obj', content);
      });

      it('streams the whole object', async () => {
        assert.deepEqual(await collect(await driver.reader('/r/obj')), content);
      });

      it('streams from an offset to the end', async () => {
        assert.equal((await collect(await driver.reader('/r/obj', 10))).toString(), 'abcdefghij');
      });

      it('streams `length` bytes from an offset', async () => {
        assert.equal((await collect(await driver.reader('/r/obj', 3, 4))).toString(), '3456');
        assert.equal((await collect(await driver.reader('/r/obj', 0, 1))).toString(), '0');
      });

      it('stops at the end when length reaches past it', async () => {
        assert.equal((await collect(await driver.reader('/r/obj', 15, 100))).toString(), 'fghij');
      });

      it('is empty at or past the end, and for length 0', async () => {
        assert.equal((await collect(await driver.reader('/r/obj', 20))).length, 0);
        assert.equal((await collect(await driver.reader('/r/obj', 1000))).length, 0);
        assert.equal((await collect(await driver.reader('/r/obj', 5, 0))).length, 0);
      });

      it('rejects negative or fractional offsets and lengths', async () => {
        await assert.rejects(driver.reader('/r/obj', -1), RangeError);
        await assert.rejects(driver.reader('/r/obj', 1.5), RangeError);
        await assert.rejects(driver.reader('/r/obj', 0, -2), RangeError);
      });

      it('reports missing paths and directories as PathNotFoundError', async () => {
        await assert.rejects(driver.reader('/r/missing'), isNotFound('/r/missing'));
        await assert.rejects(driver.reader('/r'), isNotFound('/r'));
      });

      it('returns exactly the requested slice for any chunking, offset and length', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 8 }),
            fc.nat(2500),
            fc.option(fc.nat(2500), { nil: undefined }),
            async (parts, offset, length) => {
              const writer = await driver.writer('/r/prop', false);
              for (const part of parts) await writer.write(Buffer.from(part));
              await writer.close();
              const whole = Buffer.concat(parts.map((part) => Buffer.from(part)));
              const expected = whole.subarray(offset, length === undefined ? undefined : offset + length);
              const got = await collect(await driver.reader('/r/prop', offset, length));
              assert.ok(got.equals(expected), `slice ${offset}+${String(length)} of ${whole.length} bytes`);
            },
          ),
          { numRuns: 60 },
        );
      });

      it('reads any range of a large object written in chunks', async () => {
        const parts = [randomBytes(700_000), randomBytes(1_300_000), randomBytes(5), randomBytes(900_000)];
        const writer = await driver.writer('/r/large', false);
        for (const part of parts) await writer.write(part);
        await writer.commit();
        const whole = Buffer.concat(parts);
        assert.ok((await collect(await driver.reader('/r/large'))).equals(whole));
        for (const [offset, length] of [[699_999, 2], [1_000_000, 1_000_001], [1_999_999, 10], [2_000_004, 900_000]]) {
          const got = await collect(await driver.reader('/r/large', offset, length));
          assert.ok(got.equals(whole.subarray(offset, offset + length)), `range ${offset}+${length}`);
        }
      });
    });

    describe('openReader', () => {
      const content = Buffer.from('0123456789abcdefghij');

      beforeEach(async () => {
        await driver.putContent('/o/obj', content);
      });

      it('reports the size and reads at any position, short at the end', async () => {
        const reader = await driver.openReader('/o/obj');
        try {
          assert.equal(reader.size, content.length);
          const buffer = Buffer.alloc(8);
          assert.equal(await reader.read(buffer, 4, 3), 4);
          assert.equal(buffer.subarray(0, 4).toString(), '3456');
          assert.equal(await reader.read(buffer, 8, 16), 4);
          assert.equal(buffer.subarray(0, 4).toString(), 'ghij');
          assert.equal(await reader.read(buffer, 8, 20), 0);
          assert.equal(await reader.read(buffer, 0, 0), 0);
        } finally {
          await reader.close();
        }
      });

      it('rejects negative or fractional positions and lengths beyond the buffer', async () => {
        const reader = await driver.openReader('/o/obj');
        try {
          const buffer = Buffer.alloc(4);
          await assert.rejects(reader.read(buffer, 1, -1), RangeError);
          await assert.rejects(reader.read(buffer, 1, 0.5), RangeError);
          await assert.rejects(reader.read(buffer, 5, 0), RangeError);
          await assert.rejects(reader.read(buffer, -1, 0), RangeError);
        } finally {
          await reader.close();
        }
      });

      it('reports missing paths and directories as PathNotFoundError', async () => {
        await assert.rejects(driver.openReader('/o/missing'), isNotFound('/o/missing'));
        await assert.rejects(driver.openReader('/o'), isNotFound('/o'));
      });

      it('reads back a large object written with writev, across chunk boundaries', async () => {
        const parts = [randomBytes(700_000), randomBytes(1_300_000), Buffer.alloc(0), randomBytes(5)];
        const writer = await driver.writer('/o/large', false);
        await writer.writev(parts);
        await writer.commit();
        const whole = Buffer.concat(parts);
        const reader = await driver.openReader('/o/large');
        try {
          for (const [position, length] of [[0, 2_000_005], [699_999, 2], [1_999_999, 6]]) {
            const buffer = Buffer.alloc(length);
            let got = 0;
            while (got < length) {
              const bytes = await reader.read(buffer.subarray(got), length - got, position + got);
              assert.ok(bytes > 0, `read stalled at ${position + got}`);
              got += bytes;
            }
            assert.ok(buffer.equals(whole.subarray(position, position + length)), `range ${position}+${length}`);
          }
        } finally {
          await reader.close();
        }
      });
    });

    describe('writer', () => {
      it('writes chunks, tracks size and commits', async () => {
        const writer = await driver.writer('/w/new/file', false);
        assert.equal(writer.size, 0);
        await writer.write(Buffer.from('hello '));
        await writer.write(Buffer.alloc(0));
        await writer.write(Buffer.from('world'));
        assert.equal(writer.size, 11);
        await writer.commit();
        assert.equal((await driver.getContent('/w/new/file')).toString(), 'hello world');
        assert.equal((await driver.stat('/w/new/file')).size, 11);
      });

      it('truncates existing content unless appending', async () => {
        await driver.putContent('/w/f', Buffer.from('old content'));
        const writer = await driver.writer('/w/f', false);
        assert.equal(writer.size, 0);
        await writer.write(Buffer.from('new'));
        await writer.commit();
        assert.equal((await driver.getContent('/w/f')).toString(), 'new');
      });

      it('appends after a closed writer, starting at the existing size', async () => {
        const first = await driver.writer('/w/f', true);
        await first.write(Buffer.from('abc'));
        await first.close();
        const second = await driver.writer('/w/f', true);
        assert.equal(second.size, 3);
        await second.write(Buffer.from('def'));
        await second.commit();
        assert.equal((await driver.getContent('/w/f')).toString(), 'abcdef');
      });

      it('writev appends its chunks in order, after earlier writes', async () => {
        const writer = await driver.writer('/w/v', true);
        await writer.write(Buffer.from('<'));
        await writer.writev([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')]);
        await writer.writev([]);
        assert.equal(writer.size, 6);
        await writer.close();
        assert.equal((await driver.getContent('/w/v')).toString(), '<abcde');
      });

      it('suspend keeps the bytes for the next append-open, which stat reports and commit completes', async () => {
        // Above any multipart part size (5 MiB), so an object store suspends a real multipart upload.
        const first = randomBytes(5 * 1024 * 1024 + 123);
        const second = randomBytes(300_000);
        const writer = await driver.writer('/w/s/data', true);
        await writer.write(first);
        await writer.suspend();
        await assert.rejects(writer.write(Buffer.from('x')), /closed/);
        assert.equal((await driver.stat('/w/s/data')).size, first.length);
        assert.equal((await driver.stat('/w/s/data')).isDirectory, false);
        const again = await driver.writer('/w/s/data', true);
        assert.equal(again.size, first.length);
        await again.write(second);
        await again.suspend();
        const last = await driver.writer('/w/s/data', true);
        assert.equal(last.size, first.length + second.length);
        await last.commit();
        assert.ok((await driver.getContent('/w/s/data')).equals(Buffer.concat([first, second])));
        assert.deepEqual(await driver.list('/w/s'), ['/w/s/data']);
      });

      it('truncate back to the open size after a suspend drops only the new bytes', async () => {
        const kept = randomBytes(1_000_000);
        const writer = await driver.writer('/w/st', true);
        await writer.write(kept);
        await writer.suspend();
        const failing = await driver.writer('/w/st', true);
        await failing.write(randomBytes(6 * 1024 * 1024));
        await failing.truncate(kept.length);
        assert.equal(failing.size, kept.length);
        await failing.suspend();
        const resumed = await driver.writer('/w/st', true);
        assert.equal(resumed.size, kept.length);
        await resumed.write(Buffer.from('end'));
        await resumed.commit();
        assert.ok((await driver.getContent('/w/st')).equals(Buffer.concat([kept, Buffer.from('end')])));
      });

      it('cancel removes a suspended writer\'s bytes', async () => {
        const writer = await driver.writer('/w/sc/data', true);
        await writer.write(randomBytes(6 * 1024 * 1024));
        await writer.suspend();
        await (await driver.writer('/w/sc/data', true)).cancel();
        await assert.rejects(driver.stat('/w/sc/data'), PathNotFoundError);
      });

      it('rejects writes after close or commit', async () => {
        const closed = await driver.writer('/w/a', false);
        await closed.close();
        await assert.rejects(closed.write(Buffer.from('x')), /closed/);
        await assert.rejects(closed.writev([Buffer.from('x')]), /closed/);
        const committed = await driver.writer('/w/b', false);
        await committed.commit();
        await assert.rejects(committed.write(Buffer.from('x')), /closed/);
        await assert.rejects(committed.commit(), /closed/);
        assert.equal((await driver.getContent('/w/b')).length, 0);
      });

      it('cancel removes the file', async () => {
        const writer = await driver.writer('/w/c', false);
        await writer.write(Buffer.from('doomed'));
        await writer.cancel();
        await assert.rejects(driver.stat('/w/c'), isNotFound('/w/c'));
      });

      it('truncate drops the tail and later writes follow it', async () => {
        await driver.putContent('/w/t', Buffer.from('keep'));
        const writer = await driver.writer('/w/t', true);
        await writer.write(Buffer.from('-drop-this'));
        await writer.truncate(4);
        assert.equal(writer.size, 4);
        await writer.write(Buffer.from('+more'));
        await writer.close();
        assert.equal((await driver.getContent('/w/t')).toString(), 'keep+more');
      });

      it('refuses to truncate beyond the size', async () => {
        const writer = await driver.writer('/w/t2', false);
        await writer.write(Buffer.from('abc'));
        await assert.rejects(writer.truncate(4), RangeError);
        await assert.rejects(writer.truncate(-1), RangeError);
        await writer.close();
        assert.equal((await driver.getContent('/w/t2')).toString(), 'abc');
      });

      it('keeps the bytes it accepted even if the caller reuses its buffer', async () => {
        const writer = await driver.writer('/w/reuse', false);
        const buffer = Buffer.from('first');
        await writer.write(buffer);
        buffer.write('XXXXX');
        await writer.commit();
        assert.equal((await driver.getContent('/w/reuse')).toString(), 'first');
      });
    });

    describe('stat', () => {
      it('describes files and directories', async () => {
        const before = Date.now();
        await driver.putContent('/s/dir/file', Buffer.from('12345'));
        const file = await driver.stat('/s/dir/file');
        assert.equal(file.path, '/s/dir/file');
        assert.equal(file.size, 5);
        assert.equal(file.isDirectory, false);
        assert.ok(file.modTime instanceof Date && file.modTime.getTime() >= before - 2000);
        const dir = await driver.stat('/s/dir');
        assert.equal(dir.isDirectory, true);
        assert.equal(dir.path, '/s/dir');
      });

      it('reports missing paths, including paths below a file', async () => {
        await driver.putContent('/s/file', Buffer.from('x'));
        await assert.rejects(driver.stat('/s/none'), isNotFound('/s/none'));
        await assert.rejects(driver.stat('/s/file/x'), isNotFound('/s/file/x'));
      });
    });

    describe('list', () => {
      it('is empty for a fresh store', async () => {
        assert.deepEqual(await driver.list('/'), []);
      });

      it('returns direct children as sorted full paths', async () => {
        for (const name of ['b', 'a', 'A', '_u', '-d', '0', 'a.b', 'a-b']) {
          await driver.putContent(`/l/${name}`, Buffer.from(name));
        }
        await driver.putContent('/l/sub/deep/file', Buffer.from('x'));
        const expected = ['/l/-d', '/l/0', '/l/A', '/l/_u', '/l/a', '/l/a-b', '/l/a.b', '/l/b', '/l/sub'];
        assert.deepEqual(await driver.list('/l'), expected);
        assert.deepEqual(await driver.list('/l/sub'), ['/l/sub/deep']);
        assert.deepEqual(await driver.list('/'), ['/l']);
      });

      it('reports missing directories and files as PathNotFoundError', async () => {
        await driver.putContent('/l/file', Buffer.from('x'));
        await assert.rejects(driver.list('/nothing'), isNotFound('/nothing'));
        await assert.rejects(driver.list('/l/file'), isNotFound('/l/file'));
      });
    });

    describe('move', () => {
      it('moves an object, creating destination directories', async () => {
        await driver.putContent('/m/src', Buffer.from('payload'));
        await driver.move('/m/src', '/m/deep/er/dest');
        assert.equal((await driver.getContent('/m/deep/er/dest')).toString(), 'payload');
        await assert.rejects(driver.stat('/m/src'), isNotFound('/m/src'));
      });

      it('replaces an existing destination', async () => {
        await driver.putContent('/m/src', Buffer.from('new'));
        await driver.putContent('/m/dest', Buffer.from('old and longer'));
        await driver.move('/m/src', '/m/dest');
        assert.equal((await driver.getContent('/m/dest')).toString(), 'new');
        assert.deepEqual(await driver.list('/m'), ['/m/dest']);
      });

      it('moves what a writer wrote', async () => {
        const writer = await driver.writer('/m/upload/data', false);
        await writer.write(Buffer.from('streamed'));
        await writer.commit();
        await driver.move('/m/upload/data', '/m/blob/data');
        assert.equal((await driver.getContent('/m/blob/data')).toString(), 'streamed');
      });

      it('moves what a writer committed without syncing its name', async () => {
        const writer = await driver.writer('/n/upload/data', false);
        await writer.writev([Buffer.from('stream'), Buffer.from('ed')]);
        await writer.commit({ name: false });
        await assert.rejects(writer.write(Buffer.from('late')));
        await driver.move('/n/upload/data', '/n/blob/data');
        assert.equal((await driver.getContent('/n/blob/data')).toString(), 'streamed');
        await assert.rejects(driver.stat('/n/upload/data'), PathNotFoundError);
      });

      it('reports a missing source and leaves the destination alone', async () => {
        await driver.putContent('/m/dest', Buffer.from('untouched'));
        await assert.rejects(driver.move('/m/none', '/m/dest'), isNotFound('/m/none'));
        assert.equal((await driver.getContent('/m/dest')).toString(), 'untouched');
      });
    });

    describe('delete', () => {
      it('removes a file and leaves its siblings', async () => {
        await driver.putContent('/d/a', Buffer.from('a'));
        await driver.putContent('/d/b', Buffer.from('b'));
        await driver.delete('/d/a');
        await assert.rejects(driver.stat('/d/a'), isNotFound('/d/a'));
        assert.deepEqual(await driver.list('/d'), ['/d/b']);
      });

      it('removes a whole tree', async () => {
        await driver.putContent('/d/tree/x/1', Buffer.from('1'));
        await driver.putContent('/d/tree/x/y/2', Buffer.from('2'));
        await driver.putContent('/d/tree/3', Buffer.from('3'));
        await driver.putContent('/d/treeish', Buffer.from('sibling with a shared prefix'));
        await driver.delete('/d/tree');
        await assert.rejects(driver.stat('/d/tree'), isNotFound('/d/tree'));
        await assert.rejects(driver.stat('/d/tree/x/y/2'), isNotFound('/d/tree/x/y/2'));
        assert.deepEqual(await driver.list('/d'), ['/d/treeish']);
        await driver.putContent('/d/tree/again', Buffer.from('fresh'));
        assert.deepEqual(await driver.list('/d/tree'), ['/d/tree/again']);
      });

      it('reports a missing path as PathNotFoundError', async () => {
        await assert.rejects(driver.delete('/d/none'), isNotFound('/d/none'));
      });
    });

    it('ping resolves on a healthy store', async () => {
      await driver.ping();
    });
  });
}
