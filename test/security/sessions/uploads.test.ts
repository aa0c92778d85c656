// Blob mounts and upload sessions between users, through the real token endpoint and a
// token-mode registry: a mount from a repository the caller cannot pull must not leak the
// blob (202 upload session, not 201), and an upload session id belongs to its repository
// and to the user who started it (BLOB_UPLOAD_UNKNOWN for anyone else, anywhere else).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../../api/auth/harness.js';
import { digestOf, expectError } from '../../api/registry/harness.js';
import { startTokenStack, type TokenStack } from '../services.js';
import { tokenFor, uploadWith, withToken } from './client.js';

describe('mounts and upload sessions between users', () => {
  let stack: TokenStack;
  let url: string;
  let secret: Buffer;
  let secretDigest: string;
  let alice: string;
  let bob: string;
  before(async () => {
    stack = await startTokenStack();
    url = stack.registry.url;
    // Cancelling an upload (DELETE) needs `delete`, as in CNCF distribution.
    await createUser(stack.auth, 'alice', 'alice-password', [['alice/*', 'pull,push,delete'], ['common/*', 'pull,push,delete'], ['public/*', 'pull']]);
    await createUser(stack.auth, 'bob', 'bob-password', [['bob/*', 'pull,push,delete'], ['common/*', 'pull,push,delete'], ['public/*', 'pull,push']]);
    const scopes = (user: string) => [`repository:${user}/app:pull,push,delete`, 'repository:common/app:pull,push,delete', 'repository:public/app:pull', 'repository:bob/private:pull'];
    alice = await tokenFor(stack.auth, 'alice', 'alice-password', scopes('alice'));
    bob = await tokenFor(stack.auth, 'bob', 'bob-password', [...scopes('bob'), 'repository:bob/private:pull,push', 'repository:public/app:pull,push']);
    secret = randomBytes(4096);
    secretDigest = await uploadWith(url, bob, 'bob/private', secret);
  });
  after(() => stack?.close());

  it("a mount from a repository the caller cannot pull is an upload session (202), not the blob (201)", async () => {
    const mount = await withToken(`${url}/v2/alice/app/blobs/uploads/?mount=${secretDigest}&from=bob/private`, alice, { method: 'POST' });
    assert.equal(mount.status, 202, await mount.text());
    assert.match(mount.headers.get('location') ?? '', /^\/v2\/alice\/app\/blobs\/uploads\/[0-9a-f-]+$/);
    assert.equal(mount.headers.get('docker-content-digest'), null);
    await expectError(await withToken(`${url}/v2/alice/app/blobs/${secretDigest}`, alice), 404, 'BLOB_UNKNOWN');
    const head = await withToken(`${url}/v2/alice/app/blobs/${secretDigest}`, alice, { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  it('a mount from a repository the caller may pull, but that does not hold the blob, is an upload session too', async () => {
    const mount = await withToken(`${url}/v2/alice/app/blobs/uploads/?mount=${secretDigest}&from=public/app`, alice, { method: 'POST' });
    assert.equal(mount.status, 202, await mount.text());
    await expectError(await withToken(`${url}/v2/alice/app/blobs/${secretDigest}`, alice), 404, 'BLOB_UNKNOWN');
  });

  it('a mount the caller may make does link the blob (the check above is not refusing everything)', async () => {
    const shared = randomBytes(1024);
    const digest = await uploadWith(url, bob, 'public/app', shared);
    const mount = await withToken(`${url}/v2/alice/app/blobs/uploads/?mount=${digest}&from=public/app`, alice, { method: 'POST' });
    assert.equal(mount.status, 201, await mount.text());
    const pulled = await withToken(`${url}/v2/alice/app/blobs/${digest}`, alice);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(shared));
  });

  it("another user's upload session id is unknown in its own repository and in the caller's", async () => {
    const start = await withToken(`${url}/v2/common/app/blobs/uploads/`, bob, { method: 'POST' });
    assert.equal(start.status, 202);
    const bobsSession = start.headers.get('location')!;
    const id = bobsSession.slice(bobsSession.lastIndexOf('/') + 1);
    const first = randomBytes(100);
    assert.equal((await withToken(`${url}${bobsSession}`, bob, { method: 'PATCH', body: first })).status, 202);

    const evil = randomBytes(100);
    for (const location of [bobsSession, `/v2/alice/app/blobs/uploads/${id}`]) {
      await expectError(await withToken(`${url}${location}`, alice), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await withToken(`${url}${location}`, alice, { method: 'PATCH', body: evil }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await withToken(`${url}${location}?digest=${digestOf(evil)}`, alice, { method: 'PUT', body: evil }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await withToken(`${url}${location}`, alice, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    }
    // Bob's own session id used in another repository he can push to is unknown there too.
    await expectError(await withToken(`${url}/v2/bob/app/blobs/uploads/${id}`, bob), 404, 'BLOB_UPLOAD_UNKNOWN');

    // None of that touched Bob's upload: it completes with exactly his bytes.
    const rest = randomBytes(50);
    const whole = Buffer.concat([first, rest]);
    const put = await withToken(`${url}${bobsSession}?digest=${digestOf(whole)}`, bob, { method: 'PUT', body: rest });
    assert.equal(put.status, 201, await put.text());
    await expectError(await withToken(`${url}/v2/common/app/blobs/${digestOf(evil)}`, bob), 404, 'BLOB_UNKNOWN');
  });
});
