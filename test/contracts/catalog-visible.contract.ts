/**
 * The catalog a token's patterns make visible (services/registry/catalog/visible.ts) on a
 * real MetadataStore: exact names, `/*` one level only, `/**` any depth, leading and inner
 * wildcards, several patterns merged and paged across their boundaries, and the rows read
 * bounded by what is visible, not by the repositories around it. Run by the SQLite and
 * PostgreSQL metadata contract files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchesPattern } from '../../shared/grammar/repository-pattern.js';
import { listVisibleRepositories } from '../../services/registry/catalog/visible.js';
import type { MetadataStore } from '../../services/registry/metadata/store.js';
import { byteOrder, digestOf, walk, type MetadataStoreFixture } from './metadata-store.contract.js';

const VISIBLE_CANDIDATES = [
  'alice/deep/tool', 'alice/tool', 'bob/tool', 'public/lib', 'public/lib/x', 'team-x/y', 'team/a/b/c',
  'team/app', 'team/app-x', 'team/app/sub', 'team/b', 'team0', 'teams/z', 'wild/any/app', 'wild/any/other', 'x',
];
/** Repositories no pattern below shows, around and inside the visible ones. */
const HIDDEN = [
  ...Array.from({ length: 150 }, (_, i) => `other/r${String(i).padStart(4, '0')}`),
  ...Array.from({ length: 100 }, (_, i) => `team/app/deep/d${String(i).padStart(4, '0')}`),
];
const ALL = [...VISIBLE_CANDIDATES, ...HIDDEN].sort(byteOrder);

/** Every page of the visible catalog with page size n, concatenated. */
function walkVisible(store: MetadataStore, patterns: string[], n: number): Promise<string[]> {
  return walk((last) => listVisibleRepositories(store, patterns, last === undefined ? { n } : { last, n }), n);
}

/** A store that counts the names its range and name lookups hand back. */
function counting(store: MetadataStore): { store: MetadataStore; rows: () => number } {
  let rows = 0;
  const wrapped = Object.create(store) as MetadataStore;
  wrapped.listRepositoryRange = async (range, n, tx) => {
    const names = await store.listRepositoryRange(range, n, tx);
    rows += names.length;
    return names;
  };
  wrapped.listRepositoriesNamed = async (names, last, tx) => {
    const found = await store.listRepositoriesNamed(names, last, tx);
    rows += found.length;
    return found;
  };
  return { store: wrapped, rows: () => rows };
}

/** Registers the visible-catalog contract for one store implementation. */
export function runVisibleCatalogContract(name: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`visible catalog: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;
    before(async () => {
      fixture = await make();
      store = fixture.store;
      for (const repository of ALL) await store.linkBlob(repository, digestOf('shared'), 1);
    });
    after(() => fixture?.dispose());

    const list = (patterns: string[], n = 1000, last?: string) => listVisibleRepositories(store, patterns, last === undefined ? { n } : { last, n });

    it('the store primitives: a range walk in byte order, and a lookup of names', async () => {
      assert.deepEqual(await store.listRepositoryRange({ start: { name: 'team/', inclusive: true }, before: 'team0' }, 3), ['team/a/b/c', 'team/app', 'team/app-x']);
      assert.deepEqual(await store.listRepositoryRange({ start: { name: 'team/app', inclusive: false }, before: 'team/app0' }, 2), ['team/app-x', 'team/app/deep/d0000']);
      assert.deepEqual(await store.listRepositoryRange({ before: 'alice/tool' }, 5), ['alice/deep/tool']);
      assert.deepEqual(await store.listRepositoryRange({ start: { name: 'x', inclusive: true } }, 5), ['x']);
      assert.deepEqual(await store.listRepositoryRange({}, 0), []);
      assert.deepEqual(await store.listRepositoriesNamed(['x', 'bob/tool', 'nope', 'Bad/Name', 'team/app'], undefined), ['bob/tool', 'team/app', 'x']);
      assert.deepEqual(await store.listRepositoriesNamed(['x', 'bob/tool', 'team/app'], 'bob/tool'), ['team/app', 'x']);
    });

    it('exact names, `/*` one level only, `/**` every depth below', async () => {
      assert.deepEqual(await list(['team/app']), ['team/app']);
      assert.deepEqual(await list(['team/app', 'nope/never']), ['team/app']);
      assert.deepEqual(await list(['team/*']), ['team/app', 'team/app-x', 'team/b']);
      assert.deepEqual(await list(['team/**']), ['team/a/b/c', 'team/app', 'team/app-x', 'team/app/deep/d0000', ...HIDDEN.slice(151), 'team/app/sub', 'team/b'].sort(byteOrder));
      assert.deepEqual(await list(['public/**']), ['public/lib', 'public/lib/x']);
      assert.deepEqual(await list(['*']), ['team0', 'x']);
      assert.deepEqual(await list(['*/tool']), ['alice/tool', 'bob/tool']);
      assert.deepEqual(await list(['wild/*/app']), ['wild/any/app']);
      assert.deepEqual(await list(['**']), ALL);
      assert.deepEqual(await list([]), []);
    });

    it('several patterns merge in byte order, each name once, paged across pattern boundaries at every page size', async () => {
      const patterns = ['alice/**', 'team/*', 'x', 'wild/*/app', 'team/app', 'public/lib'];
      const expected = ['alice/deep/tool', 'alice/tool', 'public/lib', 'team/app', 'team/app-x', 'team/b', 'wild/any/app', 'x'];
      assert.deepEqual(await list(patterns), expected);
      for (let n = 1; n <= expected.length + 1; n++) assert.deepEqual(await walkVisible(store, patterns, n), expected, `n=${n}`);
      assert.deepEqual(await list(patterns, 2, 'alice/tool'), ['public/lib', 'team/app']);
      assert.deepEqual(await list(patterns, 10, 'team/app/zzz'), ['team/b', 'wild/any/app', 'x'], 'last need not exist or be visible');
      assert.deepEqual(await list(patterns, 10, 'zzz'), []);
      assert.deepEqual(await list(patterns, 0), []);
    });

    it('rows read follow what is visible, not the hidden repositories inside or around a pattern', async () => {
      const { store: counted, rows } = counting(store);
      assert.deepEqual(await listVisibleRepositories(counted, ['team/*', 'alice/tool'], { n: 100 }), ['alice/tool', 'team/app', 'team/app-x', 'team/b']);
      // 4 visible; team/a/b/c and team/app/deep/… (100 hidden below a visible name) cost one probe each.
      assert.ok(rows() <= 8, `read ${rows()} rows for 4 visible repositories among ${ALL.length}`);
    });

    it('property: a walk at any page size lists exactly the repositories matching some pattern', async () => {
      const segment = fc.constantFrom('team', 'app', 'alice', 'tool', 'x', 'a', 'b', 'any', '*');
      const pattern = fc
        .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.boolean())
        .map(([segments, deep]) => (deep ? [...segments, '**'] : segments).join('/'));
      await fc.assert(
        fc.asyncProperty(fc.array(pattern, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 7 }), async (patterns, n) => {
          const expected = ALL.filter((repository) => patterns.some((p) => matchesPattern(p, repository)));
          assert.deepEqual(await walkVisible(store, patterns, n), expected);
        }),
        { numRuns: 40 },
      );
    });
  });
}
