import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkPath } from '../../../services/registry/storage/driver.js';
import {
  blobDataPath,
  blobDirectory,
  isUploadId,
  uploadDataPath,
  uploadDirectory,
  uploadInfoPath,
} from '../../../services/registry/storage/paths.js';
import { parseDigest } from '../../../shared/grammar/reference.js';

describe('storage paths', () => {
  const sha256 = parseDigest(`sha256:${'ab'.repeat(32)}`);
  const sha512 = parseDigest(`sha512:${'0f'.repeat(64)}`);

  it('lays blobs out by algorithm and two-hex fan-out', () => {
    assert.equal(blobDirectory(sha256), `/blobs/sha256/ab/${'ab'.repeat(32)}`);
    assert.equal(blobDataPath(sha256), `/blobs/sha256/ab/${'ab'.repeat(32)}/data`);
    assert.equal(blobDataPath(sha512), `/blobs/sha512/0f/${'0f'.repeat(64)}/data`);
  });

  it('lays upload sessions out by id', () => {
    const id = randomUUID();
    assert.equal(uploadDirectory(id), `/uploads/${id}`);
    assert.equal(uploadDataPath(id), `/uploads/${id}/data`);
    assert.equal(uploadInfoPath(id), `/uploads/${id}/info.json`);
  });

  it('builds only paths the drivers accept', () => {
    const id = randomUUID();
    for (const path of [blobDataPath(sha256), blobDataPath(sha512), uploadDataPath(id), uploadInfoPath(id)]) {
      assert.equal(checkPath(path), path);
    }
  });

  it('accepts only lowercase UUID v4 upload ids', () => {
    assert.equal(isUploadId(randomUUID()), true);
    for (const bad of ['', 'x', randomUUID().toUpperCase(), '1b4e28ba-2fa1-11d2-883f-0016d3cca427', `${randomUUID()}/..`, '../x']) {
      assert.equal(isUploadId(bad), false, bad);
      assert.throws(() => uploadDirectory(bad), TypeError);
    }
  });
});
