// Proof that the metadata store's hot queries cost the same with 100 or 100,000 rows,
// without timing anything: the planner (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
// PostgreSQL, after ANALYZE of a seeded registry) must answer each one from the named
// index with the lookup keys as index conditions: no table scan, no sort, no hashing of
// a whole table, no filter over rows the index did not already narrow down.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from '../../shared/db/index.js';
import * as q from '../../services/registry/metadata/queries.js';
import {
  digestOf,
  makePostgresFixture,
  makeSqliteFixture,
  type MetadataStoreFixture,
} from './metadata-store.contract.js';
import { postgresPlan, sqlitePlan } from '../support/query-plans.js';
import { postgresSuiteGate } from '../support/postgres.js';

const REPOSITORIES = 200;
const PER_REPOSITORY = 20;
const SPDX = 'application/spdx+json';
const BASE_LAYER = digestOf('base-layer');

const pad = (i: number) => String(i).padStart(4, '0');
const repositoryName = (r: number) => `org/repo-${pad(r)}`;
const manifestDigest = (r: number, i: number) => digestOf(`m-${r}-${i}`);

async function insertChunked(db: Knex, table: string, rows: object[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 100) await db(table).insert(rows.slice(start, start + 100));
}

/** 200 repositories, each with 20 manifests (half of them referrers), tags, links and references. */
async function seed(db: Knex): Promise<void> {
  const now = new Date();
  const names = Array.from({ length: REPOSITORIES }, (_, r) => repositoryName(r));
  await insertChunked(db, 'repositories', names.map((name) => ({ name, created_at: now })));
  const idRows: Array<{ id: number; name: string }> = await db('repositories').select('id', 'name');
  const repositoryIds = new Map(idRows.map((row) => [row.name, row.id]));
  const manifests: object[] = [];
  const tags: object[] = [];
  const links: object[] = [];
  for (let r = 0; r < REPOSITORIES; r++) {
    const repository_id = repositoryIds.get(repositoryName(r));
    for (let i = 0; i < PER_REPOSITORY; i++) {
      const referrer = i >= PER_REPOSITORY / 2;
      manifests.push({
        repository_id,
        digest: manifestDigest(r, i),
        media_type: 'application/vnd.oci.image.manifest.v1+json',
        size: 1000 + i,
        artifact_type: referrer ? (i % 2 ? SPDX : 'application/vnd.dev.cosign+json') : null,
        subject: referrer ? manifestDigest(r, 0) : null,
        annotations: null,
        created_at: now,
      });
      tags.push({ repository_id, name: `tag-${pad(i)}`, digest: manifestDigest(r, i), updated_at: now });
      links.push({ repository_id, digest: digestOf(`b-${r}-${i}`), size: i, created_at: now });
    }
    // A base layer every repository shares: the case where a digest-only index would be wrong.
    links.push({ repository_id, digest: BASE_LAYER, size: 1, created_at: now });
  }
  await insertChunked(db, 'manifests', manifests);
  await insertChunked(db, 'tags', tags);
  await insertChunked(db, 'blob_links', links);
  const references = (await db('manifests').select('id')).flatMap((row) => [
    { manifest_id: row.id, kind: 'blob', digest: digestOf(`config-${row.id}`) },
    { manifest_id: row.id, kind: 'blob', digest: digestOf(`layer-${row.id}`) },
  ]);
  await insertChunked(db, 'manifest_references', references);
  await db.raw('analyze');
}

interface HotQuery {
  name: string;
  build(db: Knex): Knex.QueryBuilder;
  /** The index that must answer it. */
  index: string;
  /** A filter left after the index (bounded by the result, not the table) is allowed. */
  filterAllowed?: boolean;
  /** An unordered lookup of a few keys: PostgreSQL may probe the index as a bitmap. */
  bitmapAllowed?: boolean;
}

const REPO = repositoryName(42);
const MANIFEST = manifestDigest(42, 7);
const SUBJECT = manifestDigest(42, 0);
const MANIFEST_INDEXES = 'manifests_repository_subject_index|manifests_repository_digest_unique';
/**
 * A manifest by repository and digest: the unique (repository_id, digest) index or the
 * collector's (digest, repository_id) one (migration 085); either narrows by both columns,
 * which the no-Filter check on PostgreSQL holds them to.
 */
const REPOSITORY_DIGEST_INDEXES = 'manifests_repository_digest_unique|manifests_digest_repository_index';
const REFERENCES_PRIMARY_KEY = 'manifest_references_pkey|sqlite_autoindex_manifest_references_1';
const HOT_QUERIES: HotQuery[] = [
  { name: 'getManifest', build: (db) => q.manifestByDigest(db, REPO, MANIFEST), index: REPOSITORY_DIGEST_INDEXES },
  { name: 'getManifestReferences', build: (db) => q.manifestReferences(db, REPO, MANIFEST), index: REFERENCES_PRIMARY_KEY },
  { name: 'resolveTag', build: (db) => q.tagByName(db, REPO, 'tag-0007'), index: 'tags_repository_name_unique' },
  { name: 'getBlobLink', build: (db) => q.blobLink(db, REPO, BASE_LAYER), index: 'blob_links_repository_digest_unique' },
  { name: 'findBlob', build: (db) => q.blobAnywhere(db, BASE_LAYER), index: 'blob_links_digest_index' },
  { name: 'tag page with last', build: (db) => q.tagPage(db, REPO, 'tag-0005', 5), index: 'tags_repository_name_unique' },
  { name: 'first tag page', build: (db) => q.tagPage(db, REPO, undefined, 5), index: 'tags_repository_name_unique' },
  { name: 'catalog page with last', build: (db) => q.repositoryPage(db, REPO, 5), index: 'repositories_name_unique' },
  { name: 'first catalog page', build: (db) => q.repositoryPage(db, undefined, 5), index: 'repositories_name_unique' },
  {
    name: 'visible catalog: a pattern stretch',
    build: (db) => q.repositoryRange(db, { start: { name: 'org/repo-0042', inclusive: false }, before: 'org0' }, 5),
    index: 'repositories_name_unique',
  },
  {
    name: 'visible catalog: exact names',
    build: (db) => q.repositoriesNamed(db, [REPO, repositoryName(7), 'org/none'], repositoryName(3)),
    index: 'repositories_name_unique',
    bitmapAllowed: true,
  },
  { name: 'repositoryExists', build: (db) => q.repositoryHasContent(db, REPO), index: MANIFEST_INDEXES },
  { name: 'listReferrers', build: (db) => q.referrers(db, REPO, SUBJECT), index: 'manifests_repository_subject_index' },
  {
    name: 'listReferrers by artifactType',
    build: (db) => q.referrers(db, REPO, SUBJECT, SPDX),
    index: 'manifests_repository_subject_index',
    filterAllowed: true,
  },
];

function assertSqlitePlan(hot: HotQuery, plan: string[]): void {
  const text = plan.join('\n');
  // The first catalog page walks the name index from its start, stopped by LIMIT n.
  const boundedWalk = new RegExp(`^SCAN \\S+ USING (COVERING )?INDEX ${hot.index}$`);
  for (const line of plan) {
    // `SCAN CONSTANT ROW` is the FROM-less SELECT around repositoryExists' EXISTS probes.
    if (line === 'SCAN CONSTANT ROW') continue;
    if (line.startsWith('SCAN ') && !(hot.name === 'first catalog page' && boundedWalk.test(line))) {
      assert.fail(`${hot.name}: full scan "${line}" in\n${text}`);
    }
  }
  assert.ok(!/TEMP B-TREE/.test(text), `${hot.name}: sorts instead of reading in index order:\n${text}`);
  const usesIndex = new RegExp(`USING (COVERING )?INDEX (${hot.index})\\b`);
  assert.match(text, usesIndex, `${hot.name}: does not use ${hot.index}:\n${text}`);
}

function assertPostgresPlan(hot: HotQuery, plan: string[]): void {
  const text = plan.join('\n');
  assert.ok(!/Seq Scan/.test(text), `${hot.name}: sequential scan in\n${text}`);
  assert.ok(!/\bSort\b/.test(text), `${hot.name}: sorts instead of reading in index order:\n${text}`);
  assert.ok(!/hashed SubPlan|Hash Join|HashAggregate/.test(text), `${hot.name}: hashes a whole table:\n${text}`);
  const scan = hot.bitmapAllowed ? '(?:Index (?:Only )?Scan using|Bitmap Index Scan on)' : 'Index (?:Only )?Scan using';
  const usesIndex = new RegExp(`${scan} (${hot.index})\\b`);
  assert.match(text, usesIndex, `${hot.name}: does not use ${hot.index}:\n${text}`);
  if (!hot.filterAllowed) assert.ok(!/Filter:/.test(text), `${hot.name}: filters rows the index did not narrow:\n${text}`);
}

function checkPlans(dialect: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`metadata hot queries use indexes: ${dialect}`, () => {
    let fixture: MetadataStoreFixture;
    before(async () => {
      fixture = await make();
      await seed(fixture.db);
    });
    after(async () => {
      await fixture?.dispose();
    });
    for (const hot of HOT_QUERIES) {
      it(hot.name, async () => {
        const query = hot.build(fixture.db);
        if (dialect === 'sqlite') assertSqlitePlan(hot, await sqlitePlan(fixture.db, query));
        else assertPostgresPlan(hot, await postgresPlan(fixture.db, query));
        // The plan is of a query that really answers: run it against the seeded rows.
        const result: unknown = await query;
        const found = Array.isArray(result) ? result.length > 0 : result !== undefined;
        assert.ok(found, `${hot.name}: found nothing in the seeded registry`);
      });
    }
  });
}

checkPlans('sqlite', makeSqliteFixture);

if (await postgresSuiteGate('the query-plan check')) checkPlans('postgres', makePostgresFixture);
