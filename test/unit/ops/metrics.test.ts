// HTTP metrics through a tiny koa app on a real port: counts, latency and body bytes by
// route template, method and status; the /metrics endpoint; one registry per service.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { fail } from '../../../shared/http/errors.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import {
  activeUploadsGauge,
  createMetricsRegistry,
  httpMetrics,
  metricsEndpoint,
  recordTokenOutcome,
  tokensIssuedCounter,
  type Registry,
} from '../../../shared/observability/metrics.js';
import { errorRenderer } from '../../../shared/http/middleware/errors.js';

let server: http.Server;
let base: string;
let registry: Registry;

function buildApp(metrics: Registry): Koa {
  const app = new Koa();
  const router = new Router();
  router.get('/v2/:name/blobs/:digest', (ctx) => {
    ctx.state.routeTemplate = '/v2/<name>/blobs/<digest>';
    if (ctx.params.digest === 'missing') throw fail('BLOB_UNKNOWN', 'no such blob');
    ctx.body = 'hello';
  });
  router.put('/upload/:id', async (ctx) => {
    let received = 0;
    for await (const chunk of ctx.req) received += (chunk as Buffer).length;
    ctx.status = 201;
    ctx.body = { received };
  });
  app.use(httpMetrics(metrics));
  app.use(errorRenderer(silentLogger()));
  app.use(metricsEndpoint(metrics));
  app.use(router.routes());
  return app;
}

/** Sends a request; a body given as chunks goes out chunked, without Content-Length. */
function request(method: string, path: string, chunks: Buffer[] = []): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** The value of one series in Prometheus text output, matched by name and label substrings. */
function sample(text: string, name: string, ...labels: string[]): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (labels.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

before(async () => {
  registry = createMetricsRegistry('registry');
  server = http.createServer(buildApp(registry).callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('httpMetrics', () => {
  it('counts requests by route template, method and status, never by raw path', async () => {
    assert.equal((await request('GET', '/v2/team/app/blobs/sha256:aaa')).status, 404); // two-segment name: no route
    assert.equal((await request('GET', '/v2/app/blobs/sha256:aaa')).status, 200);
    assert.equal((await request('GET', '/v2/other/blobs/sha256:bbb')).status, 200);
    assert.equal((await request('GET', '/v2/app/blobs/missing')).status, 404);
    assert.equal((await request('GET', '/nowhere')).status, 404);

    const text = (await request('GET', '/metrics')).body;
    const route = 'route="/v2/<name>/blobs/<digest>"';
    assert.equal(sample(text, 'http_requests_total', route, 'method="GET"', 'status="200"'), 2);
    assert.equal(sample(text, 'http_requests_total', route, 'method="GET"', 'status="404"'), 1);
    assert.equal(sample(text, 'http_requests_total', 'route="unmatched"', 'status="404"'), 2);
    assert.equal(sample(text, 'http_request_duration_seconds_count', route, 'status="200"'), 2);
    assert.ok(sample(text, 'http_request_duration_seconds_bucket', route, 'status="200"', 'le="+Inf"') === 2);
    assert.doesNotMatch(text, /sha256:aaa|\/v2\/app/, 'raw paths never become labels');
    assert.match(text, /service="registry"/);
  });

  it('counts body bytes actually read and written, for chunked bodies too', async () => {
    const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(500, 2), Buffer.alloc(24, 3)];
    const response = await request('PUT', '/upload/one', chunks);
    assert.equal(response.status, 201);
    assert.deepEqual(JSON.parse(response.body), { received: 1524 });

    const text = (await request('GET', '/metrics')).body;
    // @koa/router's matched layer path is the fallback route label.
    const route = 'route="/upload/:id"';
    assert.equal(sample(text, 'http_request_body_bytes_total', route, 'method="PUT"'), 1524);
    assert.equal(sample(text, 'http_response_body_bytes_total', route, 'method="PUT"'), Buffer.byteLength(response.body));
    assert.equal(sample(text, 'http_response_body_bytes_total', 'route="/v2/<name>/blobs/<digest>"', 'method="GET"'), 10 + Buffer.byteLength(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'no such blob' }] })));
  });

  it('labels the metrics endpoint by its path and answers HEAD without a body', async () => {
    const head = await request('HEAD', '/metrics');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const text = (await request('GET', '/metrics')).body;
    assert.ok((sample(text, 'http_requests_total', 'route="/metrics"', 'method="HEAD"') ?? 0) >= 1);
    assert.equal(sample(text, 'http_response_body_bytes_total', 'route="/metrics"', 'method="HEAD"'), 0);
  });

  it('leaves other methods on the metrics path to the app', async () => {
    assert.equal((await request('POST', '/metrics')).status, 404);
  });
});

describe('one registry per service', () => {
  it('two services in one process keep separate series, and helpers are idempotent', async () => {
    const a = createMetricsRegistry('registry');
    const b = createMetricsRegistry('auth');
    httpMetrics(a);
    httpMetrics(a); // a second app on the same registry must not throw "already registered"
    httpMetrics(b);
    const uploads = activeUploadsGauge(a);
    assert.equal(activeUploadsGauge(a), uploads);
    uploads.inc();
    uploads.inc();
    uploads.dec();
    const tokens = tokensIssuedCounter(b);
    assert.equal(tokensIssuedCounter(b), tokens);
    recordTokenOutcome(tokens, 'issued');
    recordTokenOutcome(tokens, 'issued');
    recordTokenOutcome(tokens, 'unauthorized');

    const textA = await a.metrics();
    const textB = await b.metrics();
    assert.equal(sample(textA, 'registry_uploads_active', 'service="registry"'), 1);
    assert.equal(sample(textB, 'auth_tokens_issued_total', 'outcome="issued"', 'service="auth"'), 2);
    assert.equal(sample(textB, 'auth_tokens_issued_total', 'outcome="unauthorized"'), 1);
    assert.doesNotMatch(textA, /auth_tokens_issued_total/);
    assert.doesNotMatch(textB, /registry_uploads_active/);
    assert.match(textA, /process_cpu_user_seconds_total\{service="registry"\}/);
    assert.match(textB, /process_cpu_user_seconds_total\{service="auth"\}/);
  });
});
