// Upload start, status, cancel, and single-request uploads (POST ?digest= and POST + PUT).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PathNotFoundError } from '../../../services/registry/storage/driver.js';
import { digestOf, expectError, startTestRegistry, type TestRegistry } from './harness.js';

describe('monolithic uploads', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
  });
  after(() => registry.close());

  const start = (name = 'team/app') => fetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });

  async function openSessions(): Promise<string[]> {
    try {
      return await registry.storage.list('/uploads');
    } catch (err) {
      if (err instanceof PathNotFoundError) return [];
      throw err;
    }
  }

  it('POST starts a session: 202 with Location, Range 0-0, Docker-Upload-UUID and no body', async () => {
    const response = await start();
    assert.equal(response.status, 202);
    const uuid = response.headers.get('docker-upload-uuid');
    assert.ok(uuid);
    assert.equal(response.headers.get('location'), `/v2/team/app/blobs/uploads/${uuid}`);
    assert.equal(response.headers.get('range'), '0-0');
    assert.equal(response.headers.get('content-length'), '0');
    assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('POST also works without the trailing slash', async () => {
    const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads`, { method: 'POST' });
    assert.equal(response.status, 202);
  });

  it('GET on the session answers 204 with its Range and Location', async () => {
    const location = (await start()).headers.get('location')!;
    const status = await fetch(`${registry.url}${location}`);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
    assert.equal(status.headers.get('location'), location);
  });

  it('POST ?digest= with the body creates the blob in one request (201)', async () => {
    const bytes = randomBytes(100_000);
    const digest = digestOf(bytes);
    const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(response.headers.get('location'), `/v2/team/app/blobs/${digest}`);
    assert.equal(response.headers.get('docker-content-digest'), digest);
    assert.equal(response.headers.get('content-length'), '0');
    const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(bytes));
  });

  it('POST ?digest= with an empty body stores the empty blob', async () => {
    const digest = digestOf('');
    const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST' });
    assert.equal(response.status, 201);
    assert.equal((await fetch(`${registry.url}/v2/team/app/blobs/${digest}`, { method: 'HEAD' })).headers.get('content-length'), '0');
  });

  it('POST ?digest= with content of another digest is DIGEST_INVALID and leaves nothing behind', async () => {
    const before = await openSessions();
    const wrong = digestOf('something else');
    const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: 'actual bytes' });
    await expectError(response, 400, 'DIGEST_INVALID');
    await expectError(await fetch(`${registry.url}/v2/team/app/blobs/${wrong}`), 404, 'BLOB_UNKNOWN');
    assert.deepEqual(await openSessions(), before);
  });

  for (const query of ['digest=', 'digest=sha256:short', 'digest=md5:d41d8cd98f00b204e9800998ecf8427e', 'digest=sha256%3AXYZ']) {
    it(`POST ?${query} is DIGEST_INVALID`, async () => {
      await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/?${query}`, { method: 'POST', body: 'x' }), 400, 'DIGEST_INVALID');
    });
  }

  it('POST then one PUT ?digest= with the whole body (201) ends the session', async () => {
    const bytes = randomBytes(70_000);
    const digest = digestOf(bytes);
    const location = (await start()).headers.get('location')!;
    const put = await fetch(`${registry.url}${location}?digest=${digest}`, { method: 'PUT', body: bytes });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/team/app/blobs/${digest}`);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    await expectError(await fetch(`${registry.url}${location}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(bytes));
  });

  it('PUT without a digest is DIGEST_INVALID and keeps the session', async () => {
    const location = (await start()).headers.get('location')!;
    await expectError(await fetch(`${registry.url}${location}`, { method: 'PUT', body: 'abc' }), 400, 'DIGEST_INVALID');
    await expectError(await fetch(`${registry.url}${location}?digest=nonsense`, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    assert.equal((await fetch(`${registry.url}${location}`)).status, 204);
  });

  it('PUT with a digest that does not match is DIGEST_INVALID and ends the session', async () => {
    const location = (await start()).headers.get('location')!;
    const wrong = digestOf('not this');
    await expectError(await fetch(`${registry.url}${location}?digest=${wrong}`, { method: 'PUT', body: 'this' }), 400, 'DIGEST_INVALID');
    await expectError(await fetch(`${registry.url}/v2/team/app/blobs/${wrong}`), 404, 'BLOB_UNKNOWN');
    await expectError(await fetch(`${registry.url}${location}`), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('DELETE cancels the session (204); it is unknown afterwards', async () => {
    const location = (await start()).headers.get('location')!;
    const cancelled = await fetch(`${registry.url}${location}`, { method: 'DELETE' });
    assert.equal(cancelled.status, 204);
    await expectError(await fetch(`${registry.url}${location}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(`${registry.url}${location}`, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(`${registry.url}${location}?digest=${digestOf('')}`, { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a session belongs to its repository', async () => {
    const uuid = (await start('team/app')).headers.get('docker-upload-uuid')!;
    const elsewhere = `${registry.url}/v2/team/other/blobs/uploads/${uuid}`;
    await expectError(await fetch(elsewhere), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(elsewhere, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(`${elsewhere}?digest=${digestOf('')}`, { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(elsewhere, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    assert.equal((await fetch(`${registry.url}/v2/team/app/blobs/uploads/${uuid}`)).status, 204);
  });

  for (const id of ['not-a-session', 'x'.repeat(129), 'a.b', '00000000-0000-4000-8000-000000000000']) {
    it(`upload id ${id.slice(0, 20)} is BLOB_UPLOAD_UNKNOWN`, async () => {
      await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  }
});
