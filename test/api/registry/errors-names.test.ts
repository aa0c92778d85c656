// Hostile and malformed requests: raw paths (no client-side normalisation), names, tags,
// digests, unknown endpoints and wrong methods each get their spec error, never a 500.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { digestOf, startTestRegistry, type TestRegistry } from './harness.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends `path` byte for byte (fetch would resolve `..` and `%2e`). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function errorCode(response: RawResponse): string | undefined {
  assert.match(String(response.headers['content-type']), /^application\/json/, response.body);
  return (JSON.parse(response.body) as { errors: Array<{ code: string }> }).errors[0]?.code;
}

describe('errors and names', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
  });
  after(() => registry.close());

  const digest = digestOf('x');
  const cases: Array<[string, string, number, string]> = [
    ['GET', '/v2/a/../b/tags/list', 400, 'NAME_INVALID'],
    ['GET', '/v2/team/%2e%2e/x/tags/list', 400, 'NAME_INVALID'],
    ['GET', '/v2/team%2Fapp/tags/list', 400, 'NAME_INVALID'],
    ['GET', '/v2/Team/App/tags/list', 400, 'NAME_INVALID'],
    ['GET', '/v2/a//b/tags/list', 400, 'NAME_INVALID'],
    ['GET', '/v2/-a/tags/list', 400, 'NAME_INVALID'],
    ['GET', '/v2/a./tags/list', 400, 'NAME_INVALID'],
    ['GET', `/v2/${'a'.repeat(256)}/tags/list`, 400, 'NAME_INVALID'],
    ['GET', `/v2/${'ab/'.repeat(90)}c/blobs/${digest}`, 400, 'NAME_INVALID'],
    ['PUT', '/v2/..%2f..%2fetc/manifests/latest', 400, 'NAME_INVALID'],
    ['POST', '/v2/../../etc/blobs/uploads/', 400, 'NAME_INVALID'],
    ['GET', '/v2/a/manifests/-tag', 400, 'TAG_INVALID'],
    ['GET', '/v2/a/manifests/..', 400, 'TAG_INVALID'],
    ['GET', '/v2/a/manifests/%2e%2e', 400, 'TAG_INVALID'],
    ['PUT', `/v2/a/manifests/${'t'.repeat(129)}`, 400, 'TAG_INVALID'],
    ['GET', '/v2/a/manifests/sha256:abc', 400, 'DIGEST_INVALID'],
    ['GET', `/v2/a/manifests/sha384:${'a'.repeat(96)}`, 400, 'DIGEST_INVALID'],
    ['GET', `/v2/a/blobs/sha256:${'A'.repeat(64)}`, 400, 'DIGEST_INVALID'],
    ['GET', '/v2/a/blobs/latest', 400, 'DIGEST_INVALID'],
    ['GET', '/v2/a/blobs/sha256%3Aabc', 400, 'DIGEST_INVALID'],
    ['GET', '/v2/a/referrers/v1', 400, 'DIGEST_INVALID'],
    ['GET', '/v2/a/blobs/uploads/..', 404, 'BLOB_UPLOAD_UNKNOWN'],
    ['GET', '/v2/a/blobs/uploads/%2e%2e', 404, 'BLOB_UPLOAD_UNKNOWN'],
    ['GET', '/v2/a', 404, 'NOT_FOUND'],
    ['GET', '/v2/a/unknown/x', 404, 'NOT_FOUND'],
    ['GET', '/v2/a/tags/list/extra', 404, 'NOT_FOUND'],
    ['GET', '/v2/a/blobs/uploads/x/y', 404, 'NOT_FOUND'],
    ['GET', '/v2/_catalog/x', 404, 'NOT_FOUND'],
    ['GET', '/v1/', 404, 'NOT_FOUND'],
    ['GET', '/', 404, 'NOT_FOUND'],
    ['GET', '/etc/passwd', 404, 'NOT_FOUND'],
  ];
  for (const [method, path, status, code] of cases) {
    it(`${method} ${path.slice(0, 60)} → ${status} ${code}`, async () => {
      const response = await raw(registry.url, method, path);
      assert.equal(response.status, status, response.body);
      assert.equal(errorCode(response), code);
      assert.equal(response.headers['docker-distribution-api-version'], 'registry/2.0');
    });
  }

  const wrongMethods: Array<[string, string, string]> = [
    ['PATCH', `/v2/a/blobs/${digest}`, 'GET, DELETE, HEAD'],
    ['POST', '/v2/a/manifests/latest', 'GET, PUT, DELETE, HEAD'],
    ['DELETE', '/v2/', 'GET, HEAD'],
    ['PUT', '/v2/_catalog', 'GET, HEAD'],
    ['OPTIONS', '/v2/a/tags/list', 'GET, HEAD'],
    ['GET', '/v2/a/blobs/uploads/', 'POST'],
    ['POST', '/v2/a/blobs/uploads/00000000-0000-4000-8000-000000000000', 'GET, PATCH, PUT, DELETE, HEAD'],
    ['PUT', `/v2/a/referrers/${digest}`, 'GET, HEAD'],
  ];
  for (const [method, path, allow] of wrongMethods) {
    it(`${method} ${path.slice(0, 50)} → 405 with Allow: ${allow}`, async () => {
      const response = await raw(registry.url, method, path);
      assert.equal(response.status, 405);
      assert.equal(response.headers.allow, allow);
      assert.equal(errorCode(response), 'METHOD_NOT_ALLOWED');
    });
  }

  it('GET /v2/ answers 200 {} with the API version header; HEAD too', async () => {
    const response = await fetch(`${registry.url}/v2/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(await response.json(), {});
    assert.equal((await fetch(`${registry.url}/v2`)).status, 200);
    const head = await fetch(`${registry.url}/v2/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  it('echoes a well-formed X-Request-Id and replaces anything else', async () => {
    const echoed = await fetch(`${registry.url}/v2/`, { headers: { 'X-Request-Id': 'client-abc.123' } });
    assert.equal(echoed.headers.get('x-request-id'), 'client-abc.123');
    const replaced = await fetch(`${registry.url}/v2/`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('no path, method or query ever produces a 500 or a non-JSON error', async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~:%@!$&'()*+,;=-]{0,20}$/);
    const path = fc.oneof(
      fc.array(segment, { maxLength: 6 }).map((parts) => `/v2/${parts.join('/')}`),
      fc.tuple(segment, fc.constantFrom('manifests', 'blobs', 'blobs/uploads', 'tags', 'referrers'), segment).map(
        ([name, kind, ref]) => `/v2/${name}/${kind}/${ref}`,
      ),
    );
    const query = fc.constantFrom('', '?n=x', '?n=3&last=%00', '?digest=sha256:', '?mount=x&from=..', '?artifactType=%FF');
    const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS');
    await fc.assert(
      fc.asyncProperty(method, path, query, async (m, p, q) => {
        const response = await raw(registry.url, m, p + q);
        assert.ok(response.status < 500, `${m} ${p}${q} → ${response.status} ${response.body}`);
        if (response.status >= 400 && m !== 'HEAD') assert.ok(errorCode(response));
      }),
      { numRuns: 300 },
    );
  });
});

describe('read-only mode', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ readOnly: true });
  });
  after(() => registry.close());

  for (const [method, path] of [
    ['POST', '/v2/team/app/blobs/uploads/'],
    ['PUT', '/v2/team/app/manifests/latest'],
    ['PATCH', '/v2/team/app/blobs/uploads/00000000-0000-4000-8000-000000000000'],
    ['DELETE', `/v2/team/app/blobs/${digestOf('x')}`],
  ] as const) {
    it(`${method} ${path} is refused: 405 UNSUPPORTED "registry is in read-only mode"`, async () => {
      const response = await raw(registry.url, method, path);
      assert.equal(response.status, 405);
      assert.equal(errorCode(response), 'UNSUPPORTED');
      assert.match(response.body, /registry is in read-only mode/);
    });
  }

  it('reads still work', async () => {
    assert.equal((await fetch(`${registry.url}/v2/`)).status, 200);
    assert.equal((await fetch(`${registry.url}/v2/team/app/tags/list`)).status, 404);
    assert.equal((await fetch(`${registry.url}/v2/_catalog`)).status, 200);
  });
});

describe('health endpoints', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
  });
  after(() => registry.close());

  it('/healthz and /readyz answer 200 without credentials', async () => {
    const health = await fetch(`${registry.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${registry.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok', checks: { storage: 'ok', metadata: 'ok' } });
  });

  it('/readyz answers 503 naming the failing component, without its error', async () => {
    const original = registry.storage.ping.bind(registry.storage);
    registry.storage.ping = async () => {
      throw new Error('disk on fire at /secret/path');
    };
    try {
      const ready = await fetch(`${registry.url}/readyz`);
      assert.equal(ready.status, 503);
      const text = await ready.text();
      assert.deepEqual(JSON.parse(text), { status: 'unavailable', checks: { storage: 'unavailable', metadata: 'ok' } });
      assert.doesNotMatch(text, /secret/);
      assert.equal((await fetch(`${registry.url}/healthz`)).status, 200);
    } finally {
      registry.storage.ping = original;
    }
    assert.equal((await fetch(`${registry.url}/readyz`)).status, 200);
  });
});
