// Chunked and streamed uploads: PATCH with and without Content-Range, resuming after a
// 416, a final chunk on PUT, session ownership, and a session continued on another replica.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  TableAccessController,
  digestOf,
  expectError,
  startReplica,
  startTestRegistry,
  type TestRegistry,
} from './harness.js';

/** A request body without Content-Length (chunked transfer encoding), as streaming clients send it. */
function streamed(...parts: Buffer[]): { body: ReadableStream<Uint8Array>; duplex: 'half' } {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
  return { body, duplex: 'half' };
}

describe('chunked uploads', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
  });
  after(() => registry.close());

  async function start(): Promise<string> {
    const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.status, 202);
    return response.headers.get('location')!;
  }

  const patch = (location: string, body: Buffer, contentRange?: string) =>
    fetch(`${registry.url}${location}`, {
      method: 'PATCH',
      body,
      headers: { 'Content-Type': 'application/octet-stream', ...(contentRange ? { 'Content-Range': contentRange } : {}) },
    });

  it('streamed PATCH without Content-Range or Content-Length appends (202, Range 0-<n-1>)', async () => {
    const location = await start();
    const parts = [randomBytes(50_000), randomBytes(70_000)];
    const whole = Buffer.concat(parts);
    const response = await fetch(`${registry.url}${location}`, { method: 'PATCH', ...streamed(...parts) } as RequestInit);
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('range'), `0-${whole.length - 1}`);
    assert.equal(response.headers.get('location'), location);
    assert.equal(response.headers.get('docker-upload-uuid'), location.split('/').pop());
    assert.equal(response.headers.get('content-length'), '0');
    const digest = digestOf(whole);
    const done = await fetch(`${registry.url}${location}?digest=${digest}`, { method: 'PUT' });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('docker-content-digest'), digest);
    const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(whole));
  });

  it('chunks with Content-Range a-b and "bytes a-b", status in between, PUT without body', async () => {
    const location = await start();
    const content = randomBytes(300_000);
    const chunks: Array<[number, number, string]> = [
      [0, 99_999, '0-99999'],
      [100_000, 199_999, 'bytes 100000-199999'],
      [200_000, 299_999, 'bytes=200000-299999/300000'],
    ];
    for (const [first, last, header] of chunks) {
      const response = await patch(location, content.subarray(first, last + 1), header);
      assert.equal(response.status, 202, await response.clone().text());
      assert.equal(response.headers.get('range'), `0-${last}`);
      const status = await fetch(`${registry.url}${location}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${last}`);
    }
    const digest = digestOf(content);
    const done = await fetch(`${registry.url}${location}?digest=${digest}`, { method: 'PUT' });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('location'), `/v2/team/app/blobs/${digest}`);
    const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content));
  });

  it('PUT carries the final chunk with its Content-Range', async () => {
    const location = await start();
    const content = randomBytes(20_000);
    assert.equal((await patch(location, content.subarray(0, 12_000), '0-11999')).status, 202);
    const digest = digestOf(content);
    const done = await fetch(`${registry.url}${location}?digest=${digest}`, {
      method: 'PUT',
      body: content.subarray(12_000),
      headers: { 'Content-Range': '12000-19999' },
    });
    assert.equal(done.status, 201, await done.clone().text());
    const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content));
  });

  it('an out-of-order chunk is 416 with the current Range, and the client can resume', async () => {
    const location = await start();
    const content = randomBytes(3000);
    assert.equal((await patch(location, content.subarray(0, 1000), '0-999')).status, 202);
    const gap = await patch(location, content.subarray(2000), '2000-2999');
    assert.equal(gap.headers.get('range'), '0-999');
    assert.equal(gap.headers.get('location'), location);
    await expectError(gap, 416, 'RANGE_INVALID');
    const overlap = await patch(location, content.subarray(500, 1500), '500-1499');
    assert.equal(overlap.headers.get('range'), '0-999');
    await expectError(overlap, 416, 'RANGE_INVALID');
    assert.equal((await patch(location, content.subarray(1000), '1000-2999')).status, 202);
    const done = await fetch(`${registry.url}${location}?digest=${digestOf(content)}`, { method: 'PUT' });
    assert.equal(done.status, 201);
  });

  it('a first chunk that does not start at 0 is 416 with Range 0-0', async () => {
    const location = await start();
    const response = await patch(location, Buffer.from('abc'), '5-7');
    assert.equal(response.headers.get('range'), '0-0');
    await expectError(response, 416, 'RANGE_INVALID');
  });

  for (const header of ['garbage', '10-5', 'bytes', '-5', '1-2-3']) {
    it(`malformed Content-Range "${header}" is 416 with the session's Range and Location`, async () => {
      const location = await start();
      assert.equal((await patch(location, Buffer.from('0123456789'), '0-9')).status, 202);
      const response = await patch(location, Buffer.from('abcdef'), header);
      assert.equal(response.headers.get('range'), '0-9');
      assert.equal(response.headers.get('location'), location);
      await expectError(response, 416, 'RANGE_INVALID');
      assert.equal((await fetch(`${registry.url}${location}`)).headers.get('range'), '0-9');
    });
  }

  it('a Content-Range whose length contradicts Content-Length is SIZE_INVALID and appends nothing', async () => {
    const location = await start();
    await expectError(await patch(location, Buffer.from('12345'), '0-9'), 400, 'SIZE_INVALID');
    assert.equal((await fetch(`${registry.url}${location}`)).headers.get('range'), '0-0');
  });

  it('a session started on one replica continues and completes on another', async () => {
    const replica = await startReplica(registry);
    try {
      const location = await start();
      const content = randomBytes(40_000);
      assert.equal((await patch(location, content.subarray(0, 15_000), '0-14999')).status, 202);
      const there = await fetch(`${replica.url}${location}`, {
        method: 'PATCH',
        body: content.subarray(15_000, 30_000),
        headers: { 'Content-Range': '15000-29999' },
      });
      assert.equal(there.status, 202);
      assert.equal(there.headers.get('range'), '0-29999');
      const back = await patch(location, content.subarray(30_000), '30000-39999');
      assert.equal(back.status, 202);
      const digest = digestOf(content);
      const done = await fetch(`${replica.url}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201);
      const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
      assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content));
    } finally {
      await replica.close();
    }
  });
});

describe('upload sessions belong to their owner', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ access: new TableAccessController({ alice: '*', bob: '*' }) });
  });
  after(() => registry.close());

  it("another subject cannot see, append to, complete or cancel alice's session", async () => {
    const as = (user: string) => ({ 'X-Test-User': user });
    const started = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: as('alice') });
    assert.equal(started.status, 202);
    const url = `${registry.url}${started.headers.get('location')}`;
    await expectError(await fetch(url, { headers: as('bob') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(url, { method: 'PATCH', body: 'x', headers: as('bob') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(`${url}?digest=${digestOf('')}`, { method: 'PUT', headers: as('bob') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await fetch(url, { method: 'DELETE', headers: as('bob') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    const mine = await fetch(url, { method: 'PATCH', body: 'hello', headers: as('alice') });
    assert.equal(mine.status, 202);
    const done = await fetch(`${url}?digest=${digestOf('hello')}`, { method: 'PUT', headers: as('alice') });
    assert.equal(done.status, 201);
  });

  it('without credentials the upload endpoints challenge for pull,push', async () => {
    const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="test",service="test",scope="repository:team/app:pull,push"');
    await expectError(response, 401, 'UNAUTHORIZED');
  });
});
