// X-Request-Id: a safe caller id is echoed, anything else is replaced by a generated one.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { requestId, safeRequestId } from '../../../shared/http/middleware/request-id.js';

describe('safeRequestId', () => {
  it('keeps plain tokens up to 64 characters', () => {
    for (const id of ['a', 'abc-123', 'A.b_c-D', '0'.repeat(64), '6f1c2b1e-8d7a-4f62-9d0e-3c9a6b1f2e4d']) {
      assert.equal(safeRequestId(id), id);
    }
  });

  it('rejects everything else', () => {
    const unsafe = ['', '0'.repeat(65), 'a b', 'a\nb', 'id"quote', 'a,b', '../etc', 'ünïcode', 'a\u0000b', '<script>'];
    for (const id of unsafe) assert.equal(safeRequestId(id), undefined, JSON.stringify(id));
    assert.equal(safeRequestId(undefined), undefined);
    assert.equal(safeRequestId(['a', 'b']), undefined);
  });
});

describe('requestId middleware', () => {
  let server: http.Server;
  let base: string;

  before(async () => {
    const app = new Koa();
    app.use(requestId());
    app.use((ctx) => {
      ctx.body = { seen: ctx.state.requestId as string };
    });
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Returns the response header and the id the handler saw. */
  async function send(headers: Record<string, string>): Promise<{ header: string | null; seen: string }> {
    const response = await fetch(`${base}/`, { headers });
    const body = (await response.json()) as { seen: string };
    return { header: response.headers.get('x-request-id'), seen: body.seen };
  }

  it('echoes a safe id and exposes it to handlers', async () => {
    assert.deepEqual(await send({ 'X-Request-Id': 'trace-42.a_b' }), { header: 'trace-42.a_b', seen: 'trace-42.a_b' });
  });

  it('replaces a missing or unsafe id with a fresh UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const none = await send({});
    const unsafe = await send({ 'X-Request-Id': 'x'.repeat(100) });
    const injected = await send({ 'X-Request-Id': 'a"b;c' });
    for (const result of [none, unsafe, injected]) {
      assert.match(result.header ?? '', uuid);
      assert.equal(result.seen, result.header);
    }
    assert.notEqual(none.header, unsafe.header);
  });
});
