// The direct GET of the object-store drivers (object-store/direct-get.ts) against a local
// HTTP server that misbehaves on purpose: a store that goes silent mid-body fails the read
// after the idle timeout, while a download merely paused between reads (a slow client) is
// not idle; a body cut short and an error status are reported, never taken as the end.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { directGet, HttpStatusError } from '../../../services/registry/storage/drivers/object-store/direct-get.js';

const body = randomBytes(1024 * 1024);

describe('direct GET (object-store/direct-get.ts)', () => {
  let server: Server;
  let base: string;
  const stalled: ServerResponse[] = [];
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/whole') {
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      } else if (req.url === '/stall') {
        // Half the body, then silence with the connection open.
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, body.length / 2));
        stalled.push(res);
      } else if (req.url === '/short') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 1000), () => res.destroy());
      } else {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code></Error>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    for (const res of stalled) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const options = { headers: {}, rejectUnauthorized: true, connectTimeoutMs: 2000, idleTimeoutMs: 300 };

  it('is not idle while paused between reads, and reads the whole body afterwards', async () => {
    const download = await directGet(new URL(`${base}/whole`), options);
    await new Promise((resolve) => setTimeout(resolve, 3 * options.idleTimeoutMs));
    const target = Buffer.alloc(body.length);
    let got = 0;
    for (let n = -1; n !== 0; got += n) n = await download.read(target, got, Math.min(200_000, body.length - got));
    assert.equal(got, body.length);
    assert.ok(target.equals(body));
  });

  it('fails a read when the store goes silent mid-body for the idle timeout', async () => {
    const download = await directGet(new URL(`${base}/stall`), options);
    const target = Buffer.alloc(body.length);
    const started = Date.now();
    await assert.rejects(download.read(target, 0, body.length), /no answer .* within 300 ms/);
    assert.ok(Date.now() - started >= options.idleTimeoutMs);
  });

  it('reports a body cut short and an error status, never a normal end', async () => {
    const short = await directGet(new URL(`${base}/short`), options);
    await assert.rejects(short.read(Buffer.alloc(body.length), 0, body.length), /closed with \d+ body bytes missing/);
    await assert.rejects(directGet(new URL(`${base}/denied`), options), (err: unknown) => err instanceof HttpStatusError && err.status === 403 && /AccessDenied/.test(err.body));
  });
});
