// Proof that the lineage reads cost the same with 100 or 100,000 images, without timing
// anything: on a seeded registry (after ANALYZE), each query of
// services/registry/events/lineage-queries.ts must start from its named index with the
// lookup keys as index conditions, and never scan a table (EXPLAIN QUERY PLAN on SQLite,
// EXPLAIN with sequential scans priced out on PostgreSQL). Sorting the found rows is allowed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from '../../shared/db/index.js';
import * as lq from '../../services/registry/events/lineage-queries.js';
import { prefixHashes } from '../../services/registry/events/record.js';
import type { MetadataStore } from '../../services/registry/metadata/store.js';
import {
  digestOf,
  makePostgresFixture,
  makeSqliteFixture,
  type MetadataStoreFixture,
} from './metadata-store.contract.js';
import { postgresPlan, sqlitePlan } from '../support/query-plans.js';
import { postgresSuiteGate } from '../support/postgres.js';

const BASES = 40;
const PER_BASE = 6;
const layer = (label: string) => digestOf(`layer ${label}`);
const baseLayers = (b: number) => [layer(`os ${b}`), layer(`tools ${b}`)];
const baseDigest = (b: number) => digestOf(`base ${b}`);

/** 40 bases, each with 6 images built on it (one of them by annotation too), tags and tag moves. */
async function seed(store: MetadataStore, db: Knex): Promise<void> {
  await store.transaction(async (tx) => {
    const put = async (repository: string, digest: string, layers: string[], annotatedBase: string | null) => {
      await store.putManifest(
        repository,
        { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, artifactType: null, subject: null, annotations: null, blobs: layers, manifests: [] },
        tx,
      );
      await store.lineage.record(repository, digest, { prefixes: prefixHashes(layers), baseName: null, baseDigest: annotatedBase }, tx);
    };
    for (let b = 0; b < BASES; b++) {
      await put(`base/b${b}`, baseDigest(b), baseLayers(b), null);
      await store.putTag(`base/b${b}`, 'latest', baseDigest(b), tx, 'seed');
      for (let i = 0; i < PER_BASE; i++) {
        const digest = digestOf(`app ${b} ${i}`);
        await put(`team/app${i}`, digest, [...baseLayers(b), layer(`app ${b} ${i}`)], i === 0 ? baseDigest(b) : null);
        await store.putTag(`team/app${i}`, `b${b}`, digest, tx, 'seed');
        await store.putTag(`team/app${i}`, 'latest', digest, tx, 'seed');
      }
    }
  });
  await db.raw('analyze');
}

interface LineageQuery {
  name: string;
  build(db: Knex): Knex.QueryBuilder;
  /** The index the lookup must start from. */
  index: string;
}

const APP = { repository: 'team/app3', digest: digestOf('app 7 3') };
const QUERIES: LineageQuery[] = [
  { name: 'bases (full chains)', build: (db) => lq.imagesWithChain(db, prefixHashes([...baseLayers(7), layer('app 7 3')]).slice(0, -1)), index: 'image_layer_prefixes_hash_index' },
  { name: 'dependents by layers', build: (db) => lq.imagesExtending(db, prefixHashes(baseLayers(7)).at(-1)!, 1000), index: 'image_layer_prefixes_hash_index' },
  { name: 'dependents by annotation', build: (db) => lq.imagesAnnotatingBase(db, baseDigest(7), 1000), index: 'image_base_annotations_digest_index' },
  { name: 'annotated base by digest', build: (db) => lq.manifestsWithDigest(db, baseDigest(7)), index: 'lineage_manifests_digest_index' },
  // Either index narrows by repository and digest (the collector's (digest, repository_id) one is from migration 085).
  { name: 'manifest id', build: (db) => lq.manifestId(db, APP), index: 'manifests_repository_digest_unique|manifests_digest_repository_index' },
  { name: 'tags of an image', build: (db) => lq.tagsOf(db, APP), index: 'tags_repository_digest_index' },
  { name: 'tag history', build: (db) => lq.tagMoves(db, 'team/app3', 'latest', 10), index: 'tag_history_tag_index' },
];

function checkPlans(dialect: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`lineage queries use indexes: ${dialect}`, () => {
    let fixture: MetadataStoreFixture;
    before(async () => {
      fixture = await make();
      await seed(fixture.store, fixture.db);
    });
    after(async () => {
      await fixture?.dispose();
    });
    for (const hot of QUERIES) {
      it(hot.name, async () => {
        const query = hot.build(fixture.db);
        if (dialect === 'sqlite') {
          const plan = (await sqlitePlan(fixture.db, query)).join('\n');
          // Every table is reached by a key: SEARCH lines only, never SCAN.
          for (const line of plan.split('\n')) assert.ok(!/^SCAN (?!CONSTANT ROW)/.test(line), `${hot.name}: full scan "${line}" in\n${plan}`);
          assert.match(plan, new RegExp(`SEARCH \\S+( AS \\S+)? USING (COVERING )?INDEX ${hot.index} \\(`), `${hot.name}: does not search ${hot.index}:\n${plan}`);
        } else {
          const plan = (await postgresPlan(fixture.db, query)).join('\n');
          assert.ok(!/Seq Scan/.test(plan), `${hot.name}: sequential scan in\n${plan}`);
          assert.ok(!/hashed SubPlan|Hash Join|HashAggregate/.test(plan), `${hot.name}: hashes a whole table:\n${plan}`);
          assert.match(plan, new RegExp(`(Index (Only )?Scan|Bitmap Index Scan) on ${hot.index}|Index (Only )?Scan using ${hot.index} on`), `${hot.name}: does not use ${hot.index}:\n${plan}`);
        }
        // The plan is of a query that really answers: run it against the seeded rows.
        const result: unknown = await query;
        assert.ok(Array.isArray(result) ? result.length > 0 : result !== undefined, `${hot.name}: found nothing in the seeded registry`);
      });
    }
  });
}

checkPlans('sqlite', makeSqliteFixture);

if (await postgresSuiteGate('the lineage query-plan check')) checkPlans('postgres', makePostgresFixture);
