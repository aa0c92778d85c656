// Request bodies that lie or break off: a Content-Length shorter or longer than the body,
// a connection reset mid-body, truncated chunked bodies, framing tricks (two lengths,
// length plus chunked), manifests over the size limit and nested 100 000 levels deep.
// The answer is the spec's error (or, for broken framing, the HTTP parser's 400), an
// upload session stays at its last good offset, nothing half-written becomes visible, and
// the registry keeps serving.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildImage, digestOf, expectError, OCI_MANIFEST, startTestRegistry, uploadBlob, type TestRegistry } from '../../api/registry/harness.js';
import { PathNotFoundError } from '../../../services/registry/storage/driver.js';
import { assertRegistryUp, expectEnvelope, rawExchange, requestHead } from '../raw-http.js';

const MANIFEST_LIMIT = 64 * 1024;

describe('lying and broken request bodies', () => {
  let registry: TestRegistry;
  /** The default 4 MiB manifest limit, room for 100 000 levels of nesting. */
  let roomy: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem', manifestMaxBytes: MANIFEST_LIMIT });
    roomy = await startTestRegistry();
  });
  after(async () => {
    await registry.close();
    await roomy.close();
  });

  async function startSession(name: string): Promise<string> {
    const response = await fetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    assert.equal(response.status, 202);
    return response.headers.get('location')!;
  }

  /**
   * Appends `next` at `offset` (the session must be exactly there: the request waits for any
   * earlier request on the session to finish), completes the upload and checks the blob is
   * `expected` followed by `next`.
   */
  async function assertSessionHolds(name: string, location: string, expected: Buffer): Promise<void> {
    const next = randomBytes(16);
    const patch = await fetch(`${registry.url}${location}`, {
      method: 'PATCH',
      body: next,
      headers: { 'Content-Range': `${expected.length}-${expected.length + next.length - 1}` },
    });
    assert.equal(patch.status, 202, `the session is not at offset ${expected.length}: ${await patch.text()}`);
    const whole = Buffer.concat([expected, next]);
    const put = await fetch(`${registry.url}${location}?digest=${digestOf(whole)}`, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    const pulled = Buffer.from(await (await fetch(`${registry.url}/v2/${name}/blobs/${digestOf(whole)}`)).arrayBuffer());
    assert.ok(pulled.equals(whole), 'the blob holds exactly the bytes of the good requests');
  }

  async function sessionsInStorage(): Promise<string[]> {
    try {
      return (await registry.storage.list('/uploads')).sort();
    } catch (err) {
      if (err instanceof PathNotFoundError) return [];
      throw err;
    }
  }

  /** Polls `condition` (bounded: a liveness deadline, not a timing assertion). */
  async function waitFor(condition: () => Promise<boolean>, failure: string): Promise<void> {
    for (let attempt = 0; attempt < 500; attempt++) {
      if (await condition()) return;
      await sleep(20);
    }
    assert.fail(failure);
  }

  /**
   * The session's Range once every earlier request on it has finished: a chunk that cannot
   * fit waits for the session's lock like any other, then is refused with the Range.
   */
  async function settledRange(location: string): Promise<string | null> {
    const probe = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: 'x', headers: { 'Content-Range': '999999999-999999999' } });
    await expectError(probe, 416, 'RANGE_INVALID');
    return probe.headers.get('range');
  }

  it('Content-Length shorter than the body: the declared bytes land whole or not at all, the rest is refused as a bad request', async () => {
    const location = await startSession('bodies/short');
    const exchange = await rawExchange(registry.url, requestHead('PATCH', location, { 'Content-Length': 3, Connection: 'keep-alive' }) + 'abcdefgh');
    assert.ok(exchange.closed);
    assert.equal(exchange.responses.at(-1)?.status, 400, exchange.raw);
    // The declared 3 bytes are the whole request; it lands entirely, or (when the parser's
    // error resets the connection before the handler read them) not at all, never in part.
    const range = await settledRange(location);
    assert.ok(range === '0-2' || range === '0-0', `Range ${range}`);
    await assertSessionHolds('bodies/short', location, Buffer.from(range === '0-2' ? 'abc' : ''));
  });

  for (const [label, options] of [
    ['the client half-closes', { end: true }],
    ['the connection is reset', { destroyAfterMs: 50 }],
  ] as const) {
    it(`Content-Length longer than the body and ${label}: the partial chunk is discarded`, async () => {
      const location = await startSession('bodies/long');
      const first = randomBytes(100);
      assert.equal((await fetch(`${registry.url}${location}`, { method: 'PATCH', body: first })).status, 202);
      const exchange = await rawExchange(registry.url, [requestHead('PATCH', location, { 'Content-Length': 1_000_000 }), randomBytes(70_000)], options);
      assert.ok(exchange.closed);
      await assertSessionHolds('bodies/long', location, first);
    });
  }

  it('a chunked body that never sends its last chunk: the partial chunk is discarded', async () => {
    const location = await startSession('bodies/chunked');
    const piece = randomBytes(4096);
    const head = requestHead('PATCH', location, { 'Transfer-Encoding': 'chunked' });
    await rawExchange(registry.url, [head, `${piece.length.toString(16)}\r\n`, piece, '\r\n'], { end: true });
    await assertSessionHolds('bodies/chunked', location, Buffer.alloc(0));
  });

  it('a final PUT whose body breaks off completes nothing; the upload can still be finished', async () => {
    const location = await startSession('bodies/final');
    const content = randomBytes(5000);
    await rawExchange(registry.url, [requestHead('PUT', `${location}?digest=${digestOf(content)}`, { 'Content-Length': content.length }), content.subarray(0, 2000)], { end: true });
    await expectError(await fetch(`${registry.url}/v2/bodies/final/blobs/${digestOf(content)}`), 404, 'BLOB_UNKNOWN');
    await assertSessionHolds('bodies/final', location, Buffer.alloc(0));
  });

  it('a monolithic upload whose body breaks off links nothing and leaves no session behind', async () => {
    const content = randomBytes(5000);
    const target = `/v2/bodies/mono/blobs/uploads/?digest=${digestOf(content)}`;
    const before = await sessionsInStorage();
    const { hostname, port } = new URL(registry.url);
    const socket = net.connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.write(requestHead('POST', target, { 'Content-Length': content.length }));
    socket.write(content.subarray(0, 1000));
    // The handler has opened its session (which the client never learns) before it is cut off.
    await waitFor(async () => (await sessionsInStorage()).length > before.length, 'the monolithic upload never started a session');
    socket.resetAndDestroy();
    await waitFor(async () => JSON.stringify(await sessionsInStorage()) === JSON.stringify(before), 'an upload session was left behind');
    await expectError(await fetch(`${registry.url}/v2/bodies/mono/blobs/${digestOf(content)}`), 404, 'BLOB_UNKNOWN');
  });

  it('a manifest whose body breaks off is not stored', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [], padding: 'x'.repeat(2000) }));
    await rawExchange(registry.url, [requestHead('PUT', '/v2/bodies/manifest/manifests/cut', { 'Content-Type': OCI_MANIFEST, 'Content-Length': manifest.length }), manifest.subarray(0, 500)], { end: true });
    await assertRegistryUp(registry.url);
    await expectError(await fetch(`${registry.url}/v2/bodies/manifest/manifests/cut`), 404, 'MANIFEST_UNKNOWN');
  });

  for (const [label, headers] of [
    ['two different Content-Length headers', 'Content-Length: 3\r\nContent-Length: 30\r\n'],
    ['Content-Length together with chunked (request smuggling)', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'],
    ['a negative Content-Length', 'Content-Length: -1\r\n'],
    ['a non-numeric Content-Length', 'Content-Length: 1e3\r\n'],
  ] as const) {
    it(`${label}: 400 from the HTTP parser and a closed connection, the session untouched`, async () => {
      const location = await startSession('bodies/framing');
      const exchange = await rawExchange(registry.url, `PATCH ${location} HTTP/1.1\r\nHost: x\r\n${headers}\r\n3\r\nabc\r\n0\r\n\r\n`);
      assert.ok(exchange.closed);
      assert.equal(exchange.responses[0]?.status, 400, exchange.raw);
      await assertSessionHolds('bodies/framing', location, Buffer.alloc(0));
    });
  }

  it('a manifest declared larger than the limit is refused before its body is read', async () => {
    const exchange = await rawExchange(registry.url, requestHead('PUT', '/v2/bodies/big/manifests/v1', { 'Content-Type': OCI_MANIFEST, 'Content-Length': 512 * 1024 * 1024, Connection: 'keep-alive' }));
    const error = expectEnvelope(exchange.responses[0], 413, 'MANIFEST_INVALID');
    assert.deepEqual(error.detail, { limit: MANIFEST_LIMIT });
    assert.ok(exchange.closed, 'the connection is closed so the announced body is never read');
  });

  it('a chunked manifest that grows past the limit is refused once it passes it', async () => {
    const piece = Buffer.alloc(16 * 1024, 0x20);
    const chunks: Array<string | Buffer> = [requestHead('PUT', '/v2/bodies/big/manifests/v2', { 'Content-Type': OCI_MANIFEST, 'Transfer-Encoding': 'chunked' })];
    for (let i = 0; i < 8; i++) chunks.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n');
    const exchange = await rawExchange(registry.url, chunks);
    expectEnvelope(exchange.responses[0], 413, 'MANIFEST_INVALID');
    await expectError(await fetch(`${registry.url}/v2/bodies/big/manifests/v2`), 404, 'MANIFEST_UNKNOWN');
  });

  for (const [label, body] of [
    ['arrays nested 100 000 deep', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['objects nested 100 000 deep', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    ['a manifest whose layers nest 100 000 deep', `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","layers":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
  ]) {
    it(`${label}: MANIFEST_INVALID, no stack overflow`, async () => {
      const response = await fetch(`${roomy.url}/v2/bodies/deep/manifests/v1`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
      await expectError(response, 400, 'MANIFEST_INVALID');
      await assertRegistryUp(roomy.url);
    });
  }

  it('an otherwise valid manifest carrying a field nested 100 000 deep is refused, not stored for clients to choke on', async () => {
    // Go's encoding/json (docker, containerd) stops at 10 000 levels: stored, this would break every pull of the tag.
    const image = buildImage({ seed: 'deep-extra', layers: 1 });
    for (const blob of [image.config, ...image.layers]) await uploadBlob(roomy.url, 'bodies/deep', blob);
    const valid = JSON.parse(image.manifest.toString('utf8')) as Record<string, unknown>;
    const body = `${JSON.stringify(valid).slice(0, -1)},"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    await expectError(await fetch(`${roomy.url}/v2/bodies/deep/manifests/extra`, { method: 'PUT', body, headers: { 'Content-Type': image.mediaType } }), 400, 'MANIFEST_INVALID');
    await expectError(await fetch(`${roomy.url}/v2/bodies/deep/manifests/extra`), 404, 'MANIFEST_UNKNOWN');
    // The same manifest without the extra field is accepted: the refusal is about the nesting.
    assert.equal((await fetch(`${roomy.url}/v2/bodies/deep/manifests/extra`, { method: 'PUT', body: image.manifest, headers: { 'Content-Type': image.mediaType } })).status, 201);
  });

  it('a chunk shorter than its Content-Range is refused as SIZE_INVALID and its bytes discarded', async () => {
    const location = await startSession('bodies/range-short');
    const first = randomBytes(100);
    assert.equal((await fetch(`${registry.url}${location}`, { method: 'PATCH', body: first })).status, 202);
    // Chunked, so only the range says how long the chunk should be; every byte arrives, and falls short.
    const piece = randomBytes(150);
    const head = requestHead('PATCH', location, { 'Content-Range': '100-299', 'Transfer-Encoding': 'chunked' });
    const exchange = await rawExchange(registry.url, [head, `${piece.length.toString(16)}\r\n`, piece, '\r\n0\r\n\r\n']);
    expectEnvelope(exchange.responses[0], 400, 'SIZE_INVALID');
    await assertSessionHolds('bodies/range-short', location, first);
  });

  it('after all of that the registry still serves a normal push', async () => {
    const location = await startSession('bodies/normal');
    await assertSessionHolds('bodies/normal', location, Buffer.alloc(0));
    await assertRegistryUp(registry.url);
  });
});
