/**
 * The browse API's store (services/registry/browse/store.ts) on a real database: READMEs
 * (set, replace, remove, unknown repository refused, per repository), and the tag page's
 * content sizes (each blob once, through an index's children, only the page's manifests).
 * Run by the SQLite and PostgreSQL files beside it.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrowseStore } from '../../services/registry/browse/store.js';
import { DockyardError } from '../../shared/http/errors.js';
import { matchesPattern } from '../../shared/grammar/repository-pattern.js';
import { listAllRepositories, listVisibleRepositories } from '../../services/registry/catalog/visible.js';
import { digestOf, type MetadataStoreFixture } from './metadata-store.contract.js';

const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

export function runBrowseStoreContract(name: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`BrowseStore (${name})`, () => {
    let fixture: MetadataStoreFixture;
    let browse: BrowseStore;
    beforeEach(async () => {
      fixture = await make();
      browse = new BrowseStore(fixture.db);
    });
    afterEach(() => fixture.dispose());

    it('searches the visible catalog by name prefix: exactly the visible names carrying it, paged', async () => {
      const names = ['alice/tool', 'team/app', 'team/app/sub', 'team/application', 'team/b', 'team0', 'teams/x', 'public/lib', 'other/a', 'other/b'];
      for (const n of names) await fixture.store.linkBlob(n, digestOf('l'), 1);
      const cases: Array<[string[] | null, string]> = [
        [['team/*'], 'team/app'], [['team/**'], 'team/app'], [['team/*', 'public/lib'], 'p'], [['**'], 'team'], [['*/app', 'alice/tool'], 'a'],
        [['team/b', 'team0'], 'team'], [null, 'team/a'], [null, 'zzz'], [['team/*'], ''],
      ];
      for (const [patterns, prefix] of cases) {
        const visible = patterns === null ? names : names.filter((n) => patterns.some((p) => matchesPattern(p, n)));
        const expected = visible.filter((n) => n.startsWith(prefix)).sort();
        for (const n of [1, 2, 50]) {
          const got: string[] = [];
          let last: string | undefined;
          for (;;) {
            const page = patterns === null ? await listAllRepositories(fixture.store, { n, ...(last ? { last } : {}) }, prefix) : await listVisibleRepositories(fixture.store, patterns, { n, ...(last ? { last } : {}) }, prefix);
            got.push(...page);
            if (page.length < n) break;
            last = page[page.length - 1];
          }
          assert.deepEqual(got, expected, `${JSON.stringify(patterns)} prefix ${prefix} n ${n}`);
        }
      }
    });

    it('keeps one README per repository: set, replace, remove; an unknown repository is NAME_UNKNOWN', async () => {
      const { store } = fixture;
      await store.linkBlob('team/app', digestOf('l'), 1);
      await store.linkBlob('team/other', digestOf('l'), 1);
      await assert.rejects(browse.setReadme('team/none', '# x', 'alice'), (err: unknown) => err instanceof DockyardError && err.code === 'NAME_UNKNOWN');
      assert.equal(await browse.readme('team/app'), null);
      await browse.setReadme('team/app', '# One ☃', 'alice');
      await browse.setReadme('team/other', 'other', null);
      await browse.setReadme('team/app', '# Two ☃', 'bob');
      const readme = await browse.readme('team/app');
      assert.equal(readme?.content, '# Two ☃');
      assert.equal(readme?.updatedBy, 'bob');
      assert.ok(readme!.updatedAt instanceof Date && !Number.isNaN(readme!.updatedAt.getTime()));
      assert.equal((await browse.readme('team/other'))?.content, 'other');
      await browse.setReadme('team/app', '', 'alice');
      assert.equal(await browse.readme('team/app'), null);
      assert.equal((await browse.readme('team/other'))?.content, 'other');
    });

    it('pages tags in name order with their manifest facts and content sizes, shared blobs counted once', async () => {
      const { store } = fixture;
      const repo = 'team/app';
      const shared = digestOf('shared');
      await store.linkBlob(repo, shared, 1000);
      for (const [label, size] of [['amd', 100], ['arm', 200], ['cfg-amd', 10], ['cfg-arm', 20]] as const) await store.linkBlob(repo, digestOf(label), size);
      const amd = digestOf('m-amd');
      const arm = digestOf('m-arm');
      const manifest = (digest: string, blobs: string[]) => ({ digest, mediaType: IMAGE, size: 300, artifactType: null, subject: null, annotations: null, blobs, manifests: [] });
      await store.putManifest(repo, manifest(amd, [digestOf('cfg-amd'), shared, digestOf('amd')]));
      await store.putManifest(repo, manifest(arm, [digestOf('cfg-arm'), shared, digestOf('arm')]));
      const index = digestOf('index');
      await store.putManifest(repo, { digest: index, mediaType: INDEX, size: 400, artifactType: null, subject: null, annotations: null, blobs: [], manifests: [amd, arm] });
      await store.putTag(repo, 'b-index', index);
      await store.putTag(repo, 'a-amd', amd);
      await store.putTag(repo, 'c-arm', arm);
      const page = await browse.tagPage(repo, undefined, 2);
      assert.deepEqual(page.map((t) => [t.name, t.digest, t.mediaType, t.contentBytes]), [
        ['a-amd', amd, IMAGE, 1110],
        ['b-index', index, INDEX, 1000 + 100 + 200 + 10 + 20],
      ]);
      assert.ok(page.every((t) => t.pushedAt instanceof Date && !Number.isNaN(t.pushedAt.getTime())));
      assert.deepEqual((await browse.tagPage(repo, 'b-index', 2)).map((t) => [t.name, t.contentBytes]), [['c-arm', 1220]]);
      assert.deepEqual(await browse.tagPage('team/none', undefined, 5), []);
    });

    it('pages tags newest push first, ties by name, every tag exactly once at every page size', async () => {
      const { store, db } = fixture;
      const repo = 'team/pushed';
      const digest = digestOf('m-pushed');
      await store.putManifest(repo, { digest, mediaType: IMAGE, size: 300, artifactType: null, subject: null, annotations: null, blobs: [], manifests: [] });
      const t0 = Date.UTC(2026, 0, 1);
      // Push times in seconds after t0; several tags share one (a push of many tags at once).
      const pushed: Record<string, number> = { old: 0, 'mid-a': 60, 'mid-b': 60, 'mid-c': 60, new: 120, newest: 180, zz: 30 };
      for (const tag of Object.keys(pushed)) await store.putTag(repo, tag, digest);
      for (const [tag, s] of Object.entries(pushed)) await db('tags').where('name', tag).update({ updated_at: new Date(t0 + s * 1000) });
      const expected = ['newest', 'new', 'mid-c', 'mid-b', 'mid-a', 'zz', 'old'];
      for (const n of [1, 2, 3, 10]) {
        const got: string[] = [];
        let after: { pushedAt: Date; name: string } | undefined;
        for (;;) {
          const page = await browse.tagPageByPushed(repo, after, n);
          got.push(...page.map((t) => t.name));
          if (page.length < n || got.length > expected.length) break;
          const last = page[page.length - 1]!;
          after = { pushedAt: last.pushedAt, name: last.name };
        }
        assert.deepEqual(got, expected, `n ${n}`);
      }
      const first = await browse.tagPageByPushed(repo, undefined, 1);
      assert.equal(first[0]!.pushedAt.getTime(), t0 + 180_000);
    });
  });
}
