// Access log: one JSON line per request with the agreed fields, written through a real pino
// destination stream; never the query string, headers or bodies.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { pino } from 'pino';
import { fail } from '../../../shared/http/errors.js';
import { accessLog } from '../../../shared/http/middleware/access-log.js';
import { errorRenderer } from '../../../shared/http/middleware/errors.js';
import { requestId } from '../../../shared/http/middleware/request-id.js';

/** Collects pino output line by line and signals each new line. */
class LineSink extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
      this.emit('line');
    }
    callback();
  }
  /** Resolves once at least `count` lines were written. */
  async waitFor(count: number): Promise<void> {
    while (this.lines.length < count) await once(this, 'line');
  }
}

let sink: LineSink;
let server: http.Server;
let port: number;
let releaseSlow: () => void = () => undefined;
let slowStarted: () => void = () => undefined;

before(async () => {
  sink = new LineSink();
  const logger = pino({ level: 'info' }, sink);
  const app = new Koa();
  const router = new Router();
  router.get('/token', (ctx) => {
    ctx.state.routeTemplate = '/token';
    ctx.state.subject = 'alice';
    ctx.body = { token: 'eyJ.secret.token' };
  });
  router.put('/v2/:name/blobs/uploads/:id', async (ctx) => {
    ctx.state.routeTemplate = '/v2/<name>/blobs/uploads/<id>';
    let bytes = 0;
    for await (const chunk of ctx.req) bytes += (chunk as Buffer).length;
    ctx.status = 201;
    ctx.body = String(bytes);
  });
  router.get('/v2/:name/manifests/:ref', () => {
    throw fail('MANIFEST_UNKNOWN', 'no such manifest');
  });
  router.get('/broken', () => {
    throw new Error('database exploded at /var/lib/secret/path');
  });
  router.put('/slow', async (ctx) => {
    ctx.state.routeTemplate = '/slow';
    await new Promise<void>((resolve) => {
      releaseSlow = resolve;
      ctx.req.resume();
      slowStarted();
    });
    ctx.body = 'late';
  });
  app.use(errorRenderer(logger));
  app.use(requestId());
  app.use(accessLog(logger));
  app.use(router.routes());
  server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  releaseSlow();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('accessLog', () => {
  it('writes one line with method, route, status, bytes, duration, user and request id', async () => {
    const before = sink.lines.length;
    const status = await request('GET', '/token?account=alice&scope=repository:team/app:pull&service=dockyard', {
      Authorization: 'Basic YWxpY2U6aHVudGVyMg==',
      Cookie: 'session=abc',
      'X-Request-Id': 'req-1',
    });
    assert.equal(status, 200);
    await sink.waitFor(before + 1);
    assert.equal(sink.lines.length, before + 1, 'exactly one line per request');
    const line = sink.lines[before];
    assert.equal(line.msg, 'request');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/token');
    assert.equal(line.path, '/token');
    assert.equal(line.status, 200);
    assert.equal(line.bytesIn, 0);
    assert.equal(line.bytesOut, Buffer.byteLength(JSON.stringify({ token: 'eyJ.secret.token' })));
    assert.equal(typeof line.durationMs, 'number');
    assert.ok((line.durationMs as number) >= 0);
    assert.equal(line.user, 'alice');
    assert.equal(line.requestId, 'req-1');
  });

  it('never logs the query string, headers or bodies', async () => {
    const before = sink.lines.length;
    await request('GET', '/token?account=alice&scope=repository:team/app:pull', {
      Authorization: 'Basic YWxpY2U6aHVudGVyMg==',
      Cookie: 'session=abc',
      'User-Agent': 'docker/27',
    });
    await request('PUT', '/v2/team/blobs/uploads/u1', { 'Content-Type': 'application/octet-stream' }, 'BODY-MARKER-xyz');
    await sink.waitFor(before + 2);
    const written = sink.raw.slice(before).join('\n');
    for (const secret of ['account', 'scope=', 'repository:team/app', 'YWxpY2U6aHVudGVyMg', 'Basic', 'session=abc', 'docker/27', 'BODY-MARKER', 'eyJ.secret.token', 'headers']) {
      assert.ok(!written.includes(secret), `log must not contain ${secret}: ${written}`);
    }
    const upload = sink.lines[before + 1];
    assert.equal(upload.route, '/v2/<name>/blobs/uploads/<id>');
    assert.equal(upload.bytesIn, Buffer.byteLength('BODY-MARKER-xyz'));
    assert.equal(upload.status, 201);
    assert.equal(upload.user, undefined);
  });

  it('records the status the error renderer chose, at error level only for 5xx', async () => {
    const before = sink.lines.length;
    assert.equal(await request('GET', '/v2/team/manifests/latest', {}), 404);
    assert.equal(await request('GET', '/nowhere', {}), 404);
    assert.equal(await request('GET', '/broken', {}), 500);
    // the error renderer adds its own 'request failed' line for the 500
    await sink.waitFor(before + 4);
    const accessLines = sink.lines.slice(before).filter((l) => l.msg === 'request');
    assert.equal(accessLines.length, 3);
    const [manifest, unmatched, broken] = accessLines;
    assert.equal(manifest.status, 404);
    assert.equal(manifest.route, '/v2/:name/manifests/:ref');
    assert.equal(manifest.level, 30);
    assert.ok((manifest.bytesOut as number) > 0);
    assert.equal(unmatched.route, 'unmatched');
    assert.match(String(unmatched.requestId), /^[0-9a-f-]{36}$/);
    assert.equal(broken.status, 500);
    assert.equal(broken.level, 50);
  });

  it('logs a request whose client went away, marked aborted', async () => {
    const before = sink.lines.length;
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/slow', headers: { 'Content-Length': '100' } });
    req.on('error', () => undefined);
    req.write('partial');
    await started;
    req.destroy();
    await sink.waitFor(before + 1);
    const line = sink.lines[before];
    assert.equal(line.route, '/slow');
    assert.equal(line.aborted, true);
    releaseSlow();
  });
});
