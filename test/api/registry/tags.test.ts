// Tag listing: lexical (byte) order, `n` and `last` alone and together, Link headers, caps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OCI_MANIFEST, buildImage, expectError, pushImage, putManifest, startTestRegistry, type TestRegistry } from './harness.js';

// Byte order: digits, upper case, `_`, lower case.
const TAGS = ['1.0', '1.10', '1.2', 'Latest', 'V2', '_private', 'a', 'a-b', 'a.b', 'a_b', 'latest', 'v1', 'v2', 'z'];

describe('tags list', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ pageMaxEntries: 5 });
    const image = buildImage({ seed: 'tags' });
    await pushImage(registry.url, 'team/app', TAGS[0]!, image);
    for (const tag of [...TAGS.slice(1)].reverse()) {
      assert.equal((await putManifest(registry.url, 'team/app', tag, image.manifest, OCI_MANIFEST)).status, 201);
    }
  });
  after(() => registry.close());

  const list = (query = '') => fetch(`${registry.url}/v2/team/app/tags/list${query}`);

  async function page(query: string): Promise<{ tags: string[]; link: string | null }> {
    const response = await list(query);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as { name: string; tags: string[] };
    assert.equal(body.name, 'team/app');
    return { tags: body.tags, link: response.headers.get('link') };
  }

  it('n alone returns the first n in byte order with a Link to the next page', async () => {
    const { tags, link } = await page('?n=3');
    assert.deepEqual(tags, TAGS.slice(0, 3));
    assert.equal(link, '</v2/team/app/tags/list?last=1.2&n=3>; rel="next"');
  });

  it('last alone returns what follows it, capped at the page limit', async () => {
    const { tags, link } = await page('?last=V2');
    assert.deepEqual(tags, ['_private', 'a', 'a-b', 'a.b', 'a_b']);
    assert.equal(link, '</v2/team/app/tags/list?last=a_b&n=5>; rel="next"');
  });

  it('n and last together', async () => {
    const { tags, link } = await page('?n=2&last=a');
    assert.deepEqual(tags, ['a-b', 'a.b']);
    assert.equal(link, '</v2/team/app/tags/list?last=a.b&n=2>; rel="next"');
  });

  it('last need not be an existing tag', async () => {
    assert.deepEqual((await page('?n=2&last=b')).tags, ['latest', 'v1']);
  });

  it('the last page has no Link', async () => {
    const { tags, link } = await page('?n=3&last=v1');
    assert.deepEqual(tags, ['v2', 'z']);
    assert.equal(link, null);
    const exact = await page('?n=2&last=v1');
    assert.deepEqual(exact.tags, ['v2', 'z']);
    assert.equal(exact.link, null);
  });

  it('following Link headers visits every tag once, in order', async () => {
    const seen: string[] = [];
    let next: string | null = '/v2/team/app/tags/list?n=4';
    while (next) {
      const response: Response = await fetch(`${registry.url}${next}`);
      const body = (await response.json()) as { tags: string[] };
      seen.push(...body.tags);
      next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
    }
    assert.deepEqual(seen, TAGS);
  });

  it('without n the page is capped at the configured maximum', async () => {
    const { tags, link } = await page('');
    assert.deepEqual(tags, TAGS.slice(0, 5));
    assert.ok(link);
  });

  it('a huge n is capped, costs nothing, and links onward', async () => {
    const { tags, link } = await page('?n=1000000000');
    assert.deepEqual(tags, TAGS.slice(0, 5));
    assert.equal(link, '</v2/team/app/tags/list?last=V2&n=5>; rel="next"');
    assert.deepEqual((await page(`?n=${'9'.repeat(400)}`)).tags, TAGS.slice(0, 5));
  });

  it('n=0 returns an empty list', async () => {
    const { tags, link } = await page('?n=0');
    assert.deepEqual(tags, []);
    assert.equal(link, null);
  });

  it('last past the end returns an empty list', async () => {
    assert.deepEqual((await page('?last=zzz')).tags, []);
  });

  for (const n of ['-1', 'abc', '1.5', '1e3', ' 2', '0x10']) {
    it(`n=${n} is PAGINATION_NUMBER_INVALID`, async () => {
      await expectError(await list(`?n=${encodeURIComponent(n)}`), 400, 'PAGINATION_NUMBER_INVALID');
    });
  }

  it('an unknown repository is NAME_UNKNOWN', async () => {
    await expectError(await fetch(`${registry.url}/v2/team/nothing/tags/list`), 404, 'NAME_UNKNOWN');
  });

  it('a repository whose only content is a blob lists no tags', async () => {
    const upload = await fetch(`${registry.url}/v2/team/blobonly/blobs/uploads/?digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`, { method: 'POST' });
    assert.equal(upload.status, 201);
    const response = await fetch(`${registry.url}/v2/team/blobonly/tags/list`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: 'team/blobonly', tags: [] });
  });
});
