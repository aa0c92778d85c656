// `n` on the tag list and the catalog: `n=1000000000` is served as one capped page (and the
// database is never asked for more), `n=-1`, `n=abc` and every other non-integer are
// PAGINATION_NUMBER_INVALID, and a page is always the next entries in order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildImage, expectError, pushImage, putManifest, startTestRegistry, type TestRegistry } from '../../api/registry/harness.js';
import { assertRegistryUp } from '../raw-http.js';

const PAGE_MAX = 5;
const REPOSITORIES = Array.from({ length: 8 }, (_, i) => `pages/repo-${i}`).sort();
const TAGS = Array.from({ length: 8 }, (_, i) => `t${i}`).sort();

describe('hostile page sizes', () => {
  let registry: TestRegistry;
  /** The `n` the metadata store was asked for, per listing call. */
  const asked: number[] = [];

  before(async () => {
    registry = await startTestRegistry({ pageMaxEntries: PAGE_MAX });
    const image = buildImage({ seed: 'pages', layers: 1 });
    for (const name of REPOSITORIES) await pushImage(registry.url, name, TAGS[0]!, image);
    for (const tag of TAGS.slice(1)) assert.equal((await putManifest(registry.url, REPOSITORIES[0]!, tag, image.manifest, image.mediaType)).status, 201);
    const store = registry.metadata;
    const listRepositories = store.listRepositories.bind(store);
    const listTags = store.listTags.bind(store);
    store.listRepositories = (page, tx) => (asked.push(page.n), listRepositories(page, tx));
    store.listTags = (name, page, tx) => (asked.push(page.n), listTags(name, page, tx));
  });
  after(() => registry.close());

  const endpoints = [
    { label: 'tags', path: `/v2/${REPOSITORIES[0]}/tags/list`, key: 'tags', all: TAGS },
    { label: 'catalog', path: '/v2/_catalog', key: 'repositories', all: REPOSITORIES },
  ] as const;

  for (const endpoint of endpoints) {
    it(`${endpoint.label}: n=1000000000 is one capped page with a Link to the next, and costs one capped query`, async () => {
      asked.length = 0;
      const response = await fetch(`${registry.url}${endpoint.path}?n=1000000000`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, string[]>;
      assert.deepEqual(body[endpoint.key], endpoint.all.slice(0, PAGE_MAX));
      assert.match(response.headers.get('link') ?? '', /rel="next"/);
      assert.deepEqual(asked, [PAGE_MAX + 1], 'the store is asked for one page plus one entry, not a billion');
    });

    it(`${endpoint.label}: a 400-digit n is capped the same way`, async () => {
      asked.length = 0;
      const response = await fetch(`${registry.url}${endpoint.path}?n=${'9'.repeat(400)}`);
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as Record<string, string[]>)[endpoint.key]!.length, PAGE_MAX);
      assert.deepEqual(asked, [PAGE_MAX + 1]);
    });

    for (const n of ['-1', 'abc', '1e3', '0x10', '1.5', ' 1', '+1', '１', 'NaN', 'Infinity', '1;DROP TABLE tags']) {
      it(`${endpoint.label}: n=${JSON.stringify(n)} is PAGINATION_NUMBER_INVALID and never reaches the store`, async () => {
        asked.length = 0;
        await expectError(await fetch(`${registry.url}${endpoint.path}?n=${encodeURIComponent(n)}`), 400, 'PAGINATION_NUMBER_INVALID');
        assert.deepEqual(asked, []);
      });
    }

    it(`${endpoint.label} property: any n is a correct, capped page or PAGINATION_NUMBER_INVALID`, async () => {
      const n = fc.oneof(
        fc.nat({ max: 20 }).map(String),
        fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
        fc.string({ unit: fc.constantFrom('0', '1', '7', '-', '+', 'e', '.', 'x', ' ', 'a', '%', '٣'), minLength: 1, maxLength: 8 }),
      );
      await fc.assert(
        fc.asyncProperty(n, async (value) => {
          const response = await fetch(`${registry.url}${endpoint.path}?n=${encodeURIComponent(value)}`);
          if (!/^\d+$/.test(value)) {
            await expectError(response, 400, 'PAGINATION_NUMBER_INVALID');
            return;
          }
          assert.equal(response.status, 200, value);
          const size = Math.min(Number(value), PAGE_MAX);
          assert.deepEqual(((await response.json()) as Record<string, string[]>)[endpoint.key], endpoint.all.slice(0, size), value);
          assert.equal(response.headers.get('link') !== null, size > 0 && size < endpoint.all.length, `Link for n=${value}`);
        }),
        { numRuns: 120, seed: 0x5ec0006 },
      );
    });
  }

  it('the registry still answers', async () => {
    await assertRegistryUp(registry.url);
  });
});
