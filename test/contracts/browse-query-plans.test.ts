// The browse API's tag page reads in index order on both dialects: the tags of one
// repository by (repository_id, name), each joined to its manifest by the unique
// (repository_id, digest) index, with no sort and no scan of other repositories' rows, so
// a page costs the same with 100 or 100,000 tags or repositories.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tagPageByPushedQuery, tagPageQuery } from '../../services/registry/browse/store.js';
import { digestOf, makePostgresFixture, makeSqliteFixture, type MetadataStoreFixture } from './metadata-store.contract.js';
import { postgresPlan, sqlitePlan } from '../support/query-plans.js';
import { postgresSuiteGate } from '../support/postgres.js';

const IMAGE = 'application/vnd.oci.image.manifest.v1+json';

async function seed(fixture: MetadataStoreFixture): Promise<void> {
  const { store } = fixture;
  for (let r = 0; r < 30; r++) {
    const repo = `org/repo-${String(r).padStart(3, '0')}`;
    const digest = digestOf(`m${r}`);
    await store.putManifest(repo, { digest, mediaType: IMAGE, size: 10, artifactType: null, subject: null, annotations: null, blobs: [], manifests: [] });
    await store.transaction(async (tx) => {
      for (let t = 0; t < 40; t++) await store.putTag(repo, `v${t}`, digest, tx);
    });
  }
  await fixture.db.raw('analyze');
}

function check(dialect: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`browse tag page uses indexes: ${dialect}`, () => {
    let fixture: MetadataStoreFixture;
    before(async () => {
      fixture = await make();
      await seed(fixture);
    });
    after(() => fixture?.dispose());

    it('walks the tag index of one repository and joins manifests by key', async () => {
      const query = tagPageQuery(fixture.db, 'org/repo-007', 'v1', 10);
      if (dialect === 'sqlite') {
        const plan = (await sqlitePlan(fixture.db, query)).join('\n');
        assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
        assert.match(plan, /SEARCH t USING (COVERING )?INDEX tags_repository_name_unique/, plan);
        // By repository and digest, through either index that holds both (the collector's from migration 085 or the unique one).
        assert.match(plan, /SEARCH m USING (COVERING )?INDEX (manifests_repository_digest_unique \(repository_id=\? AND digest=\?\)|manifests_digest_repository_index \(digest=\? AND repository_id=\?\))/, plan);
        assert.doesNotMatch(plan, /^SCAN /m, plan);
      } else {
        const plan = (await postgresPlan(fixture.db, query)).join('\n');
        assert.doesNotMatch(plan, /Seq Scan|\bSort\b|Hash Join/, plan);
        assert.match(plan, /Index (Only )?Scan using tags_repository_name_unique/, plan);
      }
      assert.equal(((await query) as unknown[]).length, 10);
    });

    it('walks the push-date index of one repository backwards for the newest-first page', async () => {
      const query = tagPageByPushedQuery(fixture.db, 'org/repo-007', { pushedAt: new Date(Date.now() + 3600_000), name: 'v1' }, 10);
      if (dialect === 'sqlite') {
        const plan = (await sqlitePlan(fixture.db, query)).join('\n');
        assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
        assert.match(plan, /SEARCH t USING (COVERING )?INDEX tags_repository_pushed_index/, plan);
        assert.doesNotMatch(plan, /^SCAN /m, plan);
      } else {
        const plan = (await postgresPlan(fixture.db, query)).join('\n');
        assert.doesNotMatch(plan, /Seq Scan|\bSort\b|Hash Join/, plan);
        assert.match(plan, /Index (Only )?Scan Backward using tags_repository_pushed_index/, plan);
      }
      assert.equal(((await query) as unknown[]).length, 10);
    });
  });
}

check('sqlite', makeSqliteFixture);
if (await postgresSuiteGate('the browse query-plan check')) check('postgres', makePostgresFixture);
