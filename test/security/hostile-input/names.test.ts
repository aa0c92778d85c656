// Hostile repository names sent byte for byte to a registry on the filesystem driver: a
// name that breaks the OCI grammar is NAME_INVALID on every endpoint (reads and writes),
// nothing is written anywhere, and a file next to the blob root stays untouched. Bytes the
// HTTP parser itself refuses (raw NUL, CR/LF, non-ASCII) get a bare 400 and a closed
// connection, and can never smuggle a header into a response.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestRegistry, type TestRegistry } from '../../api/registry/harness.js';
import { assertRegistryUp, expectEnvelope, rawExchange, requestHead, type RawResponse } from '../raw-http.js';

// The OCI distribution spec's name grammar, written out here rather than imported, so the
// test is an independent oracle for the registry's parser.
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const SPEC_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const isSpecName = (name: string): boolean => name.length <= 255 && SPEC_NAME.test(name);

const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;
const UPLOAD_ID = '00000000-0000-4000-8000-000000000000';
const CANARY = 'canary: must never be read, replaced or removed through the registry\n';

/** Characters a request target may carry as they are; anything else is percent-encoded. */
function toTarget(name: string): string {
  return [...name].map((c) => (/^[A-Za-z0-9._~!$&'()*+,;=:@/%-]$/.test(c) ? c : encodeURIComponent(c))).join('');
}

async function send(url: string, method: string, target: string, body = ''): Promise<RawResponse | undefined> {
  const head = requestHead(method, target, body ? { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': Buffer.byteLength(body) } : {});
  const exchange = await rawExchange(url, head + body);
  assert.ok(!exchange.timedOut, `${method} ${target} hung`);
  return exchange.responses[0];
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('hostile repository names', () => {
  let registry: TestRegistry;
  let canaryPath: string;
  let blobRoot: string;

  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    blobRoot = join(registry.config.dataDir, 'blobs');
    // One level above the blob root, where `..` in a name would land.
    canaryPath = join(registry.config.dataDir, 'canary');
    await writeFile(canaryPath, CANARY);
  });
  after(() => registry.close());

  /** Reads and writes on every repository endpoint for a name that must be NAME_INVALID. */
  async function assertRefusedEverywhere(target: string): Promise<void> {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    const requests: Array<[string, string, string?]> = [
      ['GET', `/v2/${target}/tags/list`],
      ['GET', `/v2/${target}/manifests/latest`],
      ['GET', `/v2/${target}/blobs/${ZERO_DIGEST}`],
      ['GET', `/v2/${target}/referrers/${ZERO_DIGEST}`],
      ['POST', `/v2/${target}/blobs/uploads/`],
      ['POST', `/v2/${target}/blobs/uploads/?mount=${ZERO_DIGEST}&from=library/a`],
      ['PATCH', `/v2/${target}/blobs/uploads/${UPLOAD_ID}`],
      ['PUT', `/v2/${target}/manifests/latest`, manifest],
      ['DELETE', `/v2/${target}/manifests/latest`],
      ['DELETE', `/v2/${target}/blobs/${ZERO_DIGEST}`],
    ];
    for (const [method, path, body] of requests) {
      expectEnvelope(await send(registry.url, method, path, body), 400, 'NAME_INVALID');
    }
  }

  const handPicked: Array<[string, string]> = [
    ['parent directory', '..'],
    ['parent directories down to /etc', '../../etc'],
    ['parent directory, percent-encoded', '%2e%2e'],
    ['parent directory, mixed encoding', '.%2E/%2e.'],
    ['encoded slash', 'a%2Fb'],
    ['encoded slash into the parent', '..%2f..%2fcanary'],
    ['absolute path', '/etc/passwd'],
    ['upper case', 'Library/Ubuntu'],
    ['256 characters', 'a'.repeat(256)],
    ['256 characters over many components', `${'ab/'.repeat(85)}a`],
    ['empty component', 'a//b'],
    ['trailing slash', 'a/'],
    ['leading separator', '-a'],
    ['unicode, percent-encoded', 'caf%C3%A9'],
    ['NUL, percent-encoded', 'a%00b'],
    ['CR/LF, percent-encoded', 'a%0d%0ab'],
    ['backslash path', '..%5c..%5cetc'],
    ['SQL in the name', "a'%3B%20drop%20table%20repositories%3B--"],
  ];
  for (const [label, target] of handPicked) {
    it(`${label} (${target.slice(0, 40)}): NAME_INVALID on every endpoint`, async () => {
      assert.ok(!isSpecName(target), 'the case must be invalid by the spec grammar');
      await assertRefusedEverywhere(target);
    });
  }

  it('255 characters is still a name (the limit is exact)', async () => {
    expectEnvelope(await send(registry.url, 'GET', `/v2/${'a'.repeat(255)}/tags/list`), 404, 'NAME_UNKNOWN');
  });

  it('an empty name is no endpoint at all', async () => {
    expectEnvelope(await send(registry.url, 'GET', '/v2//tags/list'), 404, 'NOT_FOUND');
  });

  for (const [label, bytes] of [
    ['raw NUL', Buffer.from('GET /v2/a\u0000b/tags/list HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
    ['raw UTF-8', Buffer.from('GET /v2/café/tags/list HTTP/1.1\r\nHost: x\r\n\r\n', 'utf8')],
    ['raw CR/LF splitting the request line', Buffer.from('GET /v2/a\r\nX-Injected: yes\r\n/tags/list HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
    ['raw LF inside the path', Buffer.from('GET /v2/a\nb/tags/list HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
    ['raw space inside the path', Buffer.from('GET /v2/a b/tags/list HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
  ] as const) {
    it(`${label} in the request line: 400 from the HTTP parser, connection closed, nothing injected`, async () => {
      const exchange = await rawExchange(registry.url, bytes);
      assert.ok(exchange.closed, `connection left open: ${JSON.stringify(exchange.raw)}`);
      assert.equal(exchange.responses.length, 1, exchange.raw);
      assert.equal(exchange.responses[0]!.status, 400);
      assert.equal(exchange.responses[0]!.headers['x-injected'], undefined);
    });
  }

  it('CR/LF in a name never reaches a response header (the upload Location is built from names)', async () => {
    const response = await send(registry.url, 'POST', '/v2/a%0d%0aLocation:%20http://evil/blobs/uploads/');
    expectEnvelope(response, 400, 'NAME_INVALID');
    assert.equal(response!.headers.location, undefined);
    assert.doesNotMatch(JSON.stringify(response!.headers), /evil/);
  });

  it('property: a name gets NAME_INVALID exactly when the spec grammar refuses it, else NAME_UNKNOWN', async () => {
    const unit = fc.constantFrom('a', 'b', 'z', '0', '9', 'A', 'Z', '.', '_', '-', '/', '%', '2', 'e', 'f', 'F', ':', '@', ' ', '\\', "'", ';', 'é', '\u0000', '\n', '\u202e', '😀');
    const names = fc.oneof(
      fc.string({ unit, minLength: 1, maxLength: 24 }),
      // Mostly-valid names with one hostile piece, near the grammar's edges.
      fc.tuple(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.constantFrom('..', '/', '//', '__', '___', '.-', '-', '%2e', '%2f', 'A', ''), fc.stringMatching(/^[a-z0-9]{1,8}$/)).map((p) => p.join('')),
      fc.integer({ min: 250, max: 300 }).map((n) => 'a'.repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(names, async (name) => {
        const target = toTarget(name);
        const tags = await send(registry.url, 'GET', `/v2/${target}/tags/list`);
        if (isSpecName(target)) {
          expectEnvelope(tags, 404, 'NAME_UNKNOWN');
          expectEnvelope(await send(registry.url, 'GET', `/v2/${target}/blobs/${ZERO_DIGEST}`), 404, 'BLOB_UNKNOWN');
        } else {
          expectEnvelope(tags, 400, 'NAME_INVALID');
          expectEnvelope(await send(registry.url, 'POST', `/v2/${target}/blobs/uploads/`), 400, 'NAME_INVALID');
          expectEnvelope(await send(registry.url, 'DELETE', `/v2/${target}/manifests/latest`), 400, 'NAME_INVALID');
        }
      }),
      { numRuns: 150, seed: 0x5ec0001 },
    );
  });

  it('after all of that: nothing was written, the canary is intact, the registry answers', async () => {
    assert.deepEqual(await filesUnder(blobRoot), []);
    assert.equal(await readFile(canaryPath, 'utf8'), CANARY);
    assert.deepEqual(await registry.metadata.listRepositories({ n: 10 }), []);
    await assertRegistryUp(registry.url);
  });
});
