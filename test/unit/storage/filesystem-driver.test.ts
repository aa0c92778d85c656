import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import { uploadDataPath } from '../../../services/registry/storage/paths.js';
import { UploadManager } from '../../../services/registry/storage/uploads.js';

describe('FilesystemDriver on disk', () => {
  let root: string;
  let driver: FilesystemDriver;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dockyard-fs-driver-'));
    driver = new FilesystemDriver(root);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('maps storage paths to files under the root and leaves no temp files', async () => {
    await driver.putContent('/a/b/c', Buffer.from('content'));
    await driver.putContent('/a/b/c', Buffer.from('replaced'));
    assert.equal(await readFile(join(root, 'a', 'b', 'c'), 'utf8'), 'replaced');
    assert.deepEqual(await readdir(join(root, 'a', 'b')), ['c']);
  });

  it('ignores temp files a crash left behind', async () => {
    await driver.putContent('/dir/object', Buffer.from('complete'));
    await writeFile(join(root, 'dir', '.put.0123456789abcdef.tmp'), 'half-writ');
    assert.deepEqual(await driver.list('/dir'), ['/dir/object']);
    assert.equal((await driver.getContent('/dir/object')).toString(), 'complete');
  });

  it('streams large files in 1 MiB reads', async () => {
    await driver.putContent('/big', randomBytes(3 * 1024 * 1024 + 5));
    const sizes: number[] = [];
    for await (const chunk of await driver.reader('/big')) sizes.push((chunk as Buffer).length);
    assert.deepEqual(sizes, [1048576, 1048576, 1048576, 5]);
  });

  it('lets ENOSPC from the disk propagate unchanged', async () => {
    await mkdir(join(root, 'full'));
    await symlink('/dev/full', join(root, 'full', 'data'));
    const writer = await driver.writer('/full/data', true);
    await assert.rejects(writer.write(Buffer.from('no room')), { code: 'ENOSPC' });
    await writer.close();
  });

  it('keeps an upload session usable when the disk fills mid-request', async () => {
    const uploads = new UploadManager(driver, new BlobStore(driver));
    const session = await uploads.start('library/app', 'alice');
    await rm(join(root, 'uploads', session.id, 'data'), { force: true });
    await symlink('/dev/full', join(root, 'uploads', session.id, 'data'));
    await assert.rejects(uploads.append('library/app', session.id, 'alice', Readable.from([Buffer.from('x')])), {
      code: 'ENOSPC',
    });
    assert.equal((await uploads.get('library/app', session.id, 'alice')).offset, 0);
    await rm(join(root, 'uploads', session.id, 'data'));
    const after = await uploads.append('library/app', session.id, 'alice', Readable.from([Buffer.from('ok')]), { start: 0 });
    assert.equal(after.offset, 2);
    assert.equal((await driver.getContent(uploadDataPath(session.id))).toString(), 'ok');
  });

  it('ping creates a missing root and fails when the root is unusable', async () => {
    const fresh = new FilesystemDriver(join(root, 'not', 'yet'));
    await fresh.ping();
    assert.deepEqual(await readdir(join(root, 'not')), ['yet']);
    await writeFile(join(root, 'a-file'), 'x');
    await assert.rejects(new FilesystemDriver(join(root, 'a-file')).ping());
  });

  it('lists an empty root that was never created as empty', async () => {
    assert.deepEqual(await new FilesystemDriver(join(root, 'missing')).list('/'), []);
  });
});
