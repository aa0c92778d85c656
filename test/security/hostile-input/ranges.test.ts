// `Range` on blob downloads and `Content-Range` on chunked uploads, from well-formed to
// garbage: a download answers 200 with every byte, 206 with exactly the bytes it names, or
// 416 RANGE_INVALID; an upload chunk either lands exactly at the offset or is refused
// (416 RANGE_INVALID / 400 SIZE_INVALID) without moving it, so the finished blob is always
// exactly the accepted chunks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { digestOf, expectError, startTestRegistry, uploadBlob, type TestRegistry } from '../../api/registry/harness.js';
import { assertRegistryUp, expectEnvelope, rawExchange, requestHead } from '../raw-http.js';

const SIZE = 1000;
const CONTENT = randomBytes(SIZE);

/** RFC 9110's answer for one well-formed `bytes=` range over SIZE bytes. */
function expectedRange(first: number | null, last: number | null): { start: number; end: number } | 'unsatisfiable' {
  if (first === null) {
    if (last === 0) return 'unsatisfiable';
    return { start: Math.max(SIZE - last!, 0), end: SIZE - 1 };
  }
  if (first >= SIZE) return 'unsatisfiable';
  return { start: first, end: last === null ? SIZE - 1 : Math.min(last, SIZE - 1) };
}

describe('hostile byte ranges', () => {
  let registry: TestRegistry;
  let digest: string;
  before(async () => {
    registry = await startTestRegistry();
    digest = await uploadBlob(registry.url, 'ranges/blob', CONTENT);
  });
  after(() => registry.close());

  async function download(range: string): Promise<{ status: number; contentRange: string | null; body: Buffer; text: string }> {
    const response = await fetch(`${registry.url}/v2/ranges/blob/blobs/${digest}`, { headers: { Range: range } });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, contentRange: response.headers.get('content-range'), body, text: body.toString('utf8') };
  }

  it('property: a well-formed single range is served exactly as RFC 9110 says', async () => {
    const position = fc.oneof(fc.integer({ min: 0, max: SIZE + 10 }), fc.constantFrom(0, SIZE - 1, SIZE, 2 ** 53, 1e21, 10 ** 30));
    const ranges = fc.oneof(
      fc.tuple(position, fc.option(position, { nil: null })).filter(([a, b]) => b === null || b >= a).map(([a, b]) => [a, b] as const),
      position.map((n) => [null, n] as const),
    );
    await fc.assert(
      fc.asyncProperty(ranges, async ([first, last]) => {
        const header = `bytes=${first === null ? '' : BigInt(first)}-${last === null ? '' : BigInt(last)}`;
        const response = await download(header);
        const expected = expectedRange(first, last);
        if (expected === 'unsatisfiable') {
          assert.equal(response.status, 416, header);
          assert.equal(response.contentRange, `bytes */${SIZE}`);
          assert.equal(JSON.parse(response.text).errors[0].code, 'RANGE_INVALID');
          return;
        }
        assert.equal(response.status, 206, `${header}: ${response.status}`);
        assert.equal(response.contentRange, `bytes ${expected.start}-${expected.end}/${SIZE}`);
        assert.ok(response.body.equals(CONTENT.subarray(expected.start, expected.end + 1)), header);
      }),
      { numRuns: 150, seed: 0x5ec0003 },
    );
  });

  it('property: garbage Range headers are ignored (200, every byte) or refused as 416, never anything else', async () => {
    const piece = fc.constantFrom('bytes', 'items', '=', '-', ',', ' ', '*', '/', '0', '5', '999', '1000', '18446744073709551616', 'e3', '0x10', '-1', '\t', ';', 'NaN');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }).map((p) => p.join('')), async (header) => {
        const response = await download(header);
        assert.ok([200, 206, 416].includes(response.status), `${JSON.stringify(header)} → ${response.status}`);
        if (response.status === 200) assert.ok(response.body.equals(CONTENT), header);
        if (response.status === 206) {
          const [, start, end] = /^bytes (\d+)-(\d+)\/1000$/.exec(response.contentRange ?? '') ?? [];
          assert.ok(start !== undefined && end !== undefined, `${header}: Content-Range ${response.contentRange}`);
          assert.ok(response.body.equals(CONTENT.subarray(Number(start), Number(end) + 1)), header);
        }
        if (response.status === 416) assert.equal(JSON.parse(response.text).errors[0].code, 'RANGE_INVALID');
      }),
      { numRuns: 150, seed: 0x5ec0004 },
    );
  });

  it('property: hostile Content-Range on upload chunks never moves the offset or corrupts the blob', async () => {
    type Chunk = { kind: 'at-offset' | 'wrong-start' | 'wrong-length' | 'garbage'; size: number; prefix: string; noise: string; shift: number };
    const chunk: fc.Arbitrary<Chunk> = fc.record({
      kind: fc.constantFrom('at-offset', 'wrong-start', 'wrong-length', 'garbage'),
      size: fc.integer({ min: 1, max: 64 }),
      prefix: fc.constantFrom('', 'bytes ', 'bytes='),
      noise: fc.constantFrom('abc', '*', '-1-3', '5-2', 'bytes */*', '0-', '-', '1--2', '0-99999999999999999999', '١-٢', 'bytes=0-1,2-3'),
      shift: fc.integer({ min: 1, max: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
        const start = await fetch(`${registry.url}/v2/ranges/upload/blobs/uploads/`, { method: 'POST' });
        const location = start.headers.get('location')!;
        const accepted: Buffer[] = [];
        let offset = 0;
        for (const c of chunks) {
          const body = randomBytes(c.size);
          const end = offset + c.size - 1;
          const header =
            c.kind === 'at-offset' ? `${c.prefix}${offset}-${end}`
            : c.kind === 'wrong-start' ? `${c.prefix}${offset + c.shift}-${end + c.shift}`
            : c.kind === 'wrong-length' ? `${c.prefix}${offset}-${end + c.shift}`
            : c.noise;
          const exchange = await rawExchange(registry.url, [requestHead('PATCH', location, { 'Content-Range': header, 'Content-Length': c.size }), body]);
          const response = exchange.responses[0];
          if (c.kind === 'at-offset') {
            assert.equal(response?.status, 202, `${header}: ${exchange.raw.slice(0, 300)}`);
            accepted.push(body);
            offset += c.size;
          } else if (c.kind === 'wrong-length') {
            expectEnvelope(response, 400, 'SIZE_INVALID');
          } else {
            expectEnvelope(response, 416, 'RANGE_INVALID');
            assert.equal(response!.headers.range, `0-${Math.max(offset - 1, 0)}`, header);
          }
          const status = await fetch(`${registry.url}${location}`);
          assert.equal(status.headers.get('range'), `0-${Math.max(offset - 1, 0)}`, `after ${header}`);
        }
        const whole = Buffer.concat(accepted);
        if (whole.length === 0) return;
        const put = await fetch(`${registry.url}${location}?digest=${digestOf(whole)}`, { method: 'PUT' });
        assert.equal(put.status, 201, await put.text());
        const pulled = Buffer.from(await (await fetch(`${registry.url}/v2/ranges/upload/blobs/${digestOf(whole)}`)).arrayBuffer());
        assert.ok(pulled.equals(whole), 'the blob is exactly the accepted chunks');
      }),
      { numRuns: 40, seed: 0x5ec0005 },
    );
  });

  it('a negative or overflowing Content-Range start on the final PUT is refused, and the upload is kept', async () => {
    const start = await fetch(`${registry.url}/v2/ranges/final/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location')!;
    for (const header of ['-1-2', '0-99999999999999999999']) {
      const exchange = await rawExchange(registry.url, [requestHead('PUT', `${location}?digest=${digestOf('abc')}`, { 'Content-Range': header, 'Content-Length': 3 }), 'abc']);
      expectEnvelope(exchange.responses[0], 416, 'RANGE_INVALID');
    }
    assert.equal((await fetch(`${registry.url}${location}`)).status, 204);
    await expectError(await fetch(`${registry.url}/v2/ranges/final/blobs/${digestOf('abc')}`), 404, 'BLOB_UNKNOWN');
    await assertRegistryUp(registry.url);
  });
});
