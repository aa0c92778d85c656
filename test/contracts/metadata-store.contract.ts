/**
 * The MetadataStore contract: one suite every implementation must pass, run against SQLite
 * (metadata-store-sqlite.test.ts) and PostgreSQL (metadata-store-postgres.test.ts), plus
 * the fixtures that give each run a fresh database and remove it afterwards.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isDockyardError, type ErrorCode } from '../../shared/http/errors.js';
import { migrateLatest, migrateRollbackAll, openDatabase, type Knex } from '../../shared/db/index.js';
import { KnexMetadataStore } from '../../services/registry/metadata/knex-store.js';
import type { MetadataStore, NewManifest } from '../../services/registry/metadata/store.js';
import { POSTGRES_URL, postgresUnavailable as postgresUnavailableReason } from '../support/postgres.js';
export { POSTGRES_URL, postgresUnavailableReason };


/** A fresh store on its own database, and how to throw both away. */
export interface MetadataStoreFixture {
  store: MetadataStore;
  /** The database under the store, for the migration down/up check. */
  db: Knex;
  dispose(): Promise<void>;
}

/** A store on a SQLite file in a new temp dir, with commits synced as the registry runs them (deferred). */
export async function makeSqliteFixture(): Promise<MetadataStoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-metadata-'));
  const db = openDatabase({ client: 'sqlite', filename: join(dir, 'registry.sqlite') }, { commitSync: 'deferred' });
  await migrateLatest(db, 'registry');
  const store = new KnexMetadataStore(db);
  return {
    store,
    db,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}



async function withAdmin(fn: (admin: Knex) => Promise<unknown>): Promise<void> {
  const admin = openDatabase({ client: 'pg', connection: POSTGRES_URL });
  try {
    await fn(admin);
  } finally {
    await admin.destroy();
  }
}

/** A store on a new, uniquely named PostgreSQL schema, dropped by dispose(). */
export async function makePostgresFixture(): Promise<MetadataStoreFixture> {
  const schema = `dockyard_metadata_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.raw('create schema ??', [schema]));
  const db = openDatabase({ client: 'pg', connection: POSTGRES_URL, schema });
  const store = new KnexMetadataStore(db);
  const dispose = async () => {
    await store.close();
    await withAdmin((admin) => admin.raw('drop schema if exists ?? cascade', [schema]));
  };
  try {
    await migrateLatest(db, 'registry');
  } catch (err) {
    await dispose();
    throw err;
  }
  return { store, db, dispose };
}

/** `sha256:` digest of a label, so tests can name content. */
export function digestOf(label: string): string {
  return `sha256:${createHash('sha256').update(label).digest('hex')}`;
}

/** Byte-value order, the order every listing must use on every dialect. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';
const BIG_SIZE = 2 ** 40 + 7;

function manifestOf(label: string, extra: Partial<NewManifest> = {}): NewManifest {
  return {
    digest: digestOf(label),
    mediaType: IMAGE_MANIFEST,
    size: 512,
    artifactType: null,
    subject: null,
    annotations: null,
    blobs: [digestOf(`${label}/config`), digestOf(`${label}/layer`)],
    manifests: [],
    ...extra,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isDockyardError(err), `expected a DockyardError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** The entries of a sorted list after `last` (at most `count` of them). */
function entriesAfter(list: string[], last: string, count = list.length): string[] {
  const start = list.indexOf(last) + 1;
  return list.slice(start, start + count);
}

/** Every page of a listing, walked with page size n, concatenated. */
export async function walk(list: (last: string | undefined) => Promise<string[]>, n: number): Promise<string[]> {
  const all: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await list(last);
    assert.ok(page.length <= n, `page of ${page.length} exceeds n=${n}`);
    all.push(...page);
    if (page.length < n) return all;
    last = page[page.length - 1];
  }
}

/** Registers the contract suite for one store implementation. */
export function runMetadataStoreContract(name: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('answers ping and starts empty', async () => {
      await store.ping();
      assert.deepEqual(await store.listRepositories({ n: 100 }), []);
      assert.equal(await store.repositoryExists('library/alpine'), false);
      assert.equal(await store.findBlob(digestOf('nothing')), null);
    });

    it('links, finds and unlinks blobs per repository', async () => {
      const layer = digestOf('layer');
      await store.linkBlob('team/app', layer, BIG_SIZE);
      assert.deepEqual(await store.getBlobLink('team/app', layer), { size: BIG_SIZE });
      assert.equal(await store.getBlobLink('team/other', layer), null, 'links are per repository');
      assert.deepEqual(await store.findBlob(layer), { size: BIG_SIZE });
      assert.equal(await store.repositoryExists('team/app'), true);

      await store.linkBlob('team/app', layer, BIG_SIZE);
      assert.equal(await store.unlinkBlob('team/app', layer), true);
      assert.equal(await store.unlinkBlob('team/app', layer), false);
      assert.equal(await store.getBlobLink('team/app', layer), null);
      assert.equal(await store.findBlob(layer), null);
      assert.equal(await store.repositoryExists('team/app'), false, 'a repository with nothing left does not exist');
      assert.deepEqual(await store.listRepositories({ n: 10 }), ['team/app'], 'the catalog keeps it, like distribution');
    });

    it('stores manifests idempotently with their references', async () => {
      const child = manifestOf('child');
      const index = manifestOf('index', {
        mediaType: IMAGE_INDEX,
        size: BIG_SIZE,
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', empty: '' },
        blobs: [digestOf('b'), digestOf('a'), digestOf('b')],
        manifests: [child.digest],
      });
      await store.putManifest('team/app', child);
      await store.putManifest('team/app', index);
      const first = await store.getManifest('team/app', index.digest);
      assert.ok(first);
      assert.equal(first.repository, 'team/app');
      assert.equal(first.digest, index.digest);
      assert.equal(first.mediaType, IMAGE_INDEX);
      assert.equal(first.size, BIG_SIZE);
      assert.equal(first.artifactType, null);
      assert.equal(first.subject, null);
      assert.deepEqual(first.annotations, index.annotations);
      assert.ok(first.createdAt instanceof Date && !Number.isNaN(first.createdAt.getTime()));
      assert.deepEqual(await store.getManifestReferences('team/app', index.digest), {
        blobs: [digestOf('a'), digestOf('b')].sort(byteOrder),
        manifests: [child.digest],
      });

      await store.putManifest('team/app', index);
      const again = await store.getManifest('team/app', index.digest);
      assert.deepEqual(again, first, 'a second put of the same digest changes nothing');
      assert.deepEqual(await store.getManifestReferences('team/app', index.digest), {
        blobs: [digestOf('a'), digestOf('b')].sort(byteOrder),
        manifests: [child.digest],
      });

      assert.equal(await store.getManifest('team/other', index.digest), null, 'manifests are per repository');
      assert.equal(await store.getManifest('team/app', digestOf('unknown')), null);
      assert.equal(await store.getManifestReferences('team/app', digestOf('unknown')), null);
      const empty = manifestOf('empty', { blobs: [], manifests: [] });
      await store.putManifest('team/app', empty);
      assert.deepEqual(await store.getManifestReferences('team/app', empty.digest), { blobs: [], manifests: [] });
      assert.equal(await store.repositoryExists('team/app'), true);
    });

    it('deletes a manifest with its tags and references, and nothing else', async () => {
      const doomed = manifestOf('doomed');
      const kept = manifestOf('kept');
      await store.linkBlob('team/app', digestOf('doomed/layer'), 10);
      await store.putManifest('team/app', doomed);
      await store.putManifest('team/app', kept);
      await store.putManifest('team/copy', doomed);
      await store.putTag('team/app', 'v1', doomed.digest);
      await store.putTag('team/app', 'latest', doomed.digest);
      await store.putTag('team/app', 'stable', kept.digest);
      await store.putTag('team/copy', 'v1', doomed.digest);

      assert.equal(await store.deleteManifest('team/app', doomed.digest), true);
      assert.equal(await store.deleteManifest('team/app', doomed.digest), false);
      assert.equal(await store.getManifest('team/app', doomed.digest), null);
      assert.equal(await store.getManifestReferences('team/app', doomed.digest), null);
      assert.equal(await store.resolveTag('team/app', 'v1'), null);
      assert.equal(await store.resolveTag('team/app', 'latest'), null);
      assert.deepEqual(await store.listTags('team/app', { n: 10 }), ['stable']);
      assert.equal(await store.resolveTag('team/copy', 'v1'), doomed.digest, 'other repositories keep theirs');
      assert.ok(await store.getManifest('team/copy', doomed.digest));
      assert.deepEqual(await store.getBlobLink('team/app', digestOf('doomed/layer')), { size: 10 }, 'blob links stay');
    });

    it('points, moves, resolves and deletes case-sensitive tags', async () => {
      const one = manifestOf('one');
      const two = manifestOf('two');
      await store.putManifest('team/app', one);
      await store.putManifest('team/app', two);
      await store.putTag('team/app', 'latest', one.digest);
      await store.putTag('team/app', 'Latest', two.digest);
      assert.equal(await store.resolveTag('team/app', 'latest'), one.digest);
      assert.equal(await store.resolveTag('team/app', 'Latest'), two.digest);
      assert.equal(await store.resolveTag('team/app', 'LATEST'), null);
      assert.equal(await store.resolveTag('team/other', 'latest'), null);

      await store.putTag('team/app', 'latest', two.digest);
      assert.equal(await store.resolveTag('team/app', 'latest'), two.digest);
      assert.equal(await store.deleteTag('team/app', 'latest'), true);
      assert.equal(await store.deleteTag('team/app', 'latest'), false);
      assert.equal(await store.resolveTag('team/app', 'latest'), null);
      assert.ok(await store.getManifest('team/app', two.digest), 'deleting a tag keeps its manifest');
    });

    it('refuses a tag for a manifest the repository does not have', async () => {
      await store.putManifest('team/app', manifestOf('one'));
      await rejectsWith(store.putTag('team/app', 'v1', digestOf('missing')), 'MANIFEST_UNKNOWN');
      await rejectsWith(store.putTag('team/empty', 'v1', digestOf('one')), 'MANIFEST_UNKNOWN');
      assert.equal(await store.repositoryExists('team/empty'), false, 'a refused tag creates no repository');
      assert.deepEqual(await store.listRepositories({ n: 10 }), ['team/app']);
    });

    describe('pagination in byte order', () => {
      const repositories = ['a', 'a-b', 'a.b', 'a/b', 'a_b', 'a__b', 'ab', 'b0', 'library/ubuntu', 'z', '0start'];
      const tags = ['latest', 'Latest', 'LATEST', 'v1.0', 'v1.0-rc', 'v1_0', 'v1-0', '1.0', '_x', 'A', 'a', 'Z', 'z', '0'];
      const sortedRepositories = [...repositories].sort(byteOrder);
      const sortedTags = [...tags].sort(byteOrder);

      beforeEach(async () => {
        for (const repository of repositories) await store.linkBlob(repository, digestOf('shared'), 1);
        const target = manifestOf('tagged');
        await store.putManifest('team/tags', target);
        for (const tag of tags) await store.putTag('team/tags', tag, target.digest);
      });

      it('lists repositories: n alone, last alone, both, past the end', async () => {
        const all = [...sortedRepositories, 'team/tags'].sort(byteOrder);
        assert.deepEqual(await store.listRepositories({ n: 1000 }), all);
        assert.deepEqual(await store.listRepositories({ n: 3 }), all.slice(0, 3));
        assert.deepEqual(await store.listRepositories({ last: 'a.b', n: 1000 }), entriesAfter(all, 'a.b'));
        assert.deepEqual(await store.listRepositories({ last: 'a.b', n: 2 }), entriesAfter(all, 'a.b', 2));
        assert.deepEqual(await store.listRepositories({ last: 'a.c', n: 1 }), ['a/b'], 'last need not exist');
        assert.deepEqual(await store.listRepositories({ last: all[all.length - 1], n: 5 }), []);
        assert.deepEqual(await store.listRepositories({ last: 'zzz', n: 5 }), []);
        assert.deepEqual(await store.listRepositories({ n: 0 }), []);
        assert.deepEqual(await walk((last) => store.listRepositories({ last, n: 2 }), 2), all);
      });

      it('lists tags: n alone, last alone, both, past the end, upper case first', async () => {
        const list = (page: { last?: string; n: number }) => store.listTags('team/tags', page);
        assert.deepEqual(await list({ n: 1000 }), sortedTags);
        assert.deepEqual(sortedTags.slice(0, 4), ['0', '1.0', 'A', 'LATEST'], 'digits, then upper case first');
        assert.deepEqual(await list({ n: 4 }), sortedTags.slice(0, 4));
        assert.deepEqual(await list({ last: 'Z', n: 1000 }), entriesAfter(sortedTags, 'Z'));
        assert.deepEqual(await list({ last: 'Latest', n: 2 }), entriesAfter(sortedTags, 'Latest', 2));
        assert.deepEqual(await list({ last: 'v1.0', n: 1 }), ['v1.0-rc']);
        assert.deepEqual(await list({ last: 'z', n: 10 }), []);
        assert.deepEqual(await list({ last: 'é', n: 10 }), [], 'non-ASCII sorts after every tag');
        assert.deepEqual(await list({ last: 'z'.repeat(1000), n: 10 }), []);
        assert.deepEqual(await list({ n: 0 }), []);
        assert.deepEqual(await walk((last) => list({ last, n: 3 }), 3), sortedTags);
        assert.deepEqual(await store.listTags('team/none', { n: 10 }), []);
      });

      it('pages any set of valid tags in byte order (property)', async () => {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,11}$/), { minLength: 1, maxLength: 25 }),
            fc.integer({ min: 1, max: 7 }),
            async (names, n) => {
              const repository = `prop/run${run++}`;
              const target = manifestOf(repository);
              await store.putManifest(repository, target);
              for (const tag of names) await store.putTag(repository, tag, target.digest);
              const pages = await walk((last) => store.listTags(repository, { last, n }), n);
              assert.deepEqual(pages, [...names].sort(byteOrder));
            },
          ),
          { numRuns: 15 },
        );
      });
    });

    it('lists referrers by digest, filtered by artifact type', async () => {
      const subject = manifestOf('subject');
      await store.putManifest('team/app', subject);
      const sbom = (label: string) =>
        manifestOf(label, { artifactType: 'application/spdx+json', subject: subject.digest, annotations: { label } });
      const cosign = 'application/vnd.dev.cosign+json';
      const signature = manifestOf('signature', { artifactType: cosign, subject: subject.digest });
      const plain = manifestOf('plain', { subject: subject.digest });
      for (const m of [sbom('sbom-1'), sbom('sbom-2'), signature, plain]) await store.putManifest('team/app', m);
      await store.putManifest('team/other', sbom('elsewhere'));
      const unrelated = manifestOf('unrelated', { artifactType: 'application/spdx+json', subject: digestOf('x') });
      await store.putManifest('team/app', unrelated);

      const all = await store.listReferrers('team/app', subject.digest);
      const expected = [sbom('sbom-1'), sbom('sbom-2'), signature, plain]
        .map((m) => {
          const d: Record<string, unknown> = { mediaType: m.mediaType, digest: m.digest, size: m.size };
          if (m.artifactType) d.artifactType = m.artifactType;
          if (m.annotations) d.annotations = m.annotations;
          return d;
        })
        .sort((a, b) => byteOrder(String(a.digest), String(b.digest)));
      assert.deepEqual(all, expected);
      assert.ok(!('artifactType' in all.find((d) => d.digest === plain.digest)!), 'absent fields are omitted');

      const sboms = await store.listReferrers('team/app', subject.digest, 'application/spdx+json');
      assert.deepEqual(sboms.map((d) => d.digest), [sbom('sbom-1').digest, sbom('sbom-2').digest].sort(byteOrder));
      assert.deepEqual(await store.listReferrers('team/app', subject.digest, 'application/none'), []);
      assert.deepEqual(await store.listReferrers('team/app', subject.digest, 'bad\u0000type'), []);
      assert.deepEqual(await store.listReferrers('team/app', digestOf('no-such-subject')), []);

      await store.deleteManifest('team/app', signature.digest);
      assert.equal((await store.listReferrers('team/app', subject.digest)).length, 3);
    });

    it('commits a transaction and rolls it back on throw', async () => {
      const m = manifestOf('in-tx');
      const result = await store.transaction(async (tx) => {
        await store.linkBlob('tx/kept', digestOf('kept'), 5, tx);
        return 'done';
      });
      assert.equal(result, 'done');
      assert.deepEqual(await store.getBlobLink('tx/kept', digestOf('kept')), { size: 5 });

      await assert.rejects(
        store.transaction(async (tx) => {
          await store.linkBlob('tx/gone', digestOf('layer'), 7, tx);
          await store.putManifest('tx/gone', m, tx);
          await store.putTag('tx/gone', 'v1', m.digest, tx);
          await store.deleteTag('tx/kept', 'nothing', tx);
          assert.equal(await store.resolveTag('tx/gone', 'v1', tx), m.digest, 'a transaction sees its own writes');
          assert.equal(await store.repositoryExists('tx/gone', tx), true);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.repositoryExists('tx/gone'), false);
      assert.equal(await store.getManifest('tx/gone', m.digest), null);
      assert.equal(await store.getBlobLink('tx/gone', digestOf('layer')), null);
      assert.equal(await store.resolveTag('tx/gone', 'v1'), null);
      assert.deepEqual(await store.listRepositories({ n: 10 }), ['tx/kept']);
      await assert.rejects(store.getManifest('tx/kept', m.digest, { not: 'a transaction' }), TypeError);
    });

    it('survives concurrent identical writes', async () => {
      const m = manifestOf('racy');
      const times = Array.from({ length: 8 }, (_, i) => i);
      await Promise.all(times.map(() => store.putManifest('race/app', m)));
      await Promise.all(times.map(() => store.linkBlob('race/app', digestOf('racy/layer'), 99)));
      await Promise.all(times.map(() => store.putTag('race/app', 'latest', m.digest)));
      await Promise.all(times.map((i) => store.linkBlob('race/new', digestOf(`layer-${i}`), i)));
      await Promise.all(times.map(() => store.transaction((tx) => store.putManifest('race/tx', m, tx))));

      assert.equal(await store.resolveTag('race/app', 'latest'), m.digest);
      assert.deepEqual(await store.listTags('race/app', { n: 10 }), ['latest']);
      assert.deepEqual(await store.getBlobLink('race/app', digestOf('racy/layer')), { size: 99 });
      assert.deepEqual(await store.getManifestReferences('race/app', m.digest), {
        blobs: [digestOf('racy/config'), digestOf('racy/layer')].sort(byteOrder),
        manifests: [],
      });
      for (const i of times) assert.deepEqual(await store.getBlobLink('race/new', digestOf(`layer-${i}`)), { size: i });
      assert.deepEqual(await store.listRepositories({ n: 10 }), ['race/app', 'race/new', 'race/tx']);
    });

    it('rejects hostile input with the spec error codes and writes nothing', async () => {
      const good = digestOf('good');
      await rejectsWith(store.linkBlob('Bad/Name', good, 1), 'NAME_INVALID');
      await rejectsWith(store.linkBlob('../etc', good, 1), 'NAME_INVALID');
      await rejectsWith(store.repositoryExists('a'.repeat(300)), 'NAME_INVALID');
      await rejectsWith(store.linkBlob('ok/repo', 'sha256:xyz', 1), 'DIGEST_INVALID');
      await rejectsWith(store.linkBlob('ok/repo', `md5:${'0'.repeat(32)}`, 1), 'DIGEST_INVALID');
      await rejectsWith(store.getBlobLink('ok/repo', `sha256:${'A'.repeat(64)}`), 'DIGEST_INVALID');
      await rejectsWith(store.linkBlob('ok/repo', good, -1), 'SIZE_INVALID');
      await rejectsWith(store.linkBlob('ok/repo', good, 1.5), 'SIZE_INVALID');
      await rejectsWith(store.putManifest('ok/repo', manifestOf('m', { mediaType: '' })), 'MANIFEST_INVALID');
      await rejectsWith(store.putManifest('ok/repo', manifestOf('m', { artifactType: 'x'.repeat(300) })), 'MANIFEST_INVALID');
      await rejectsWith(store.putManifest('ok/repo', manifestOf('m', { blobs: ['sha256:short'] })), 'DIGEST_INVALID');
      await rejectsWith(store.putManifest('ok/repo', manifestOf('m', { subject: 'nope' })), 'DIGEST_INVALID');
      await rejectsWith(store.putManifest('ok/repo', manifestOf('m', { size: -5 })), 'SIZE_INVALID');
      await rejectsWith(store.putTag('ok/repo', '-bad', good), 'TAG_INVALID');
      await rejectsWith(store.putTag('ok/repo', 'x'.repeat(129), good), 'TAG_INVALID');
      await rejectsWith(store.resolveTag('ok/repo', 'a/b'), 'TAG_INVALID');
      await rejectsWith(store.listTags('ok/repo', { n: -1 }), 'PAGINATION_NUMBER_INVALID');
      await rejectsWith(store.listRepositories({ n: Number.NaN }), 'PAGINATION_NUMBER_INVALID');
      await rejectsWith(store.listTags('ok/repo', { last: 'a\u0000b', n: 5 }), 'REQUEST_INVALID');
      await rejectsWith(store.listReferrers('ok/repo', 'sha256:'), 'DIGEST_INVALID');
      assert.deepEqual(await store.listRepositories({ n: 10 }), []);
    });

    it('runs its migrations down and up again', async () => {
      const tables = ['repositories', 'blob_links', 'manifests', 'manifest_references', 'tags'];
      await store.putManifest('mig/app', manifestOf('before'));
      await migrateRollbackAll(fixture.db, 'registry');
      for (const table of tables) assert.equal(await fixture.db.schema.hasTable(table), false, `${table} dropped`);
      await migrateLatest(fixture.db, 'registry');
      for (const table of tables) assert.equal(await fixture.db.schema.hasTable(table), true, `${table} created`);
      assert.equal(await store.repositoryExists('mig/app'), false);
      const after = manifestOf('after');
      await store.putManifest('mig/app', after);
      await store.putTag('mig/app', 'v1', after.digest);
      assert.equal(await store.resolveTag('mig/app', 'v1'), after.digest);
    });
  });
}

