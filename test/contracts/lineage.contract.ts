/**
 * The lineage and tag-history contract of the metadata store, run on SQLite
 * (lineage-sqlite.test.ts) and PostgreSQL (lineage-postgres.test.ts): layer-prefix
 * matching (bases, direct and transitive dependents), multi-arch indexes, base
 * annotations, deleting a base, tag history written with the tag, and stale images.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataStore } from '../../services/registry/metadata/store.js';
import { prefixHashes } from '../../services/registry/events/record.js';
import { basesOf, dependentsOf, staleFor, staleInNamespace } from '../../services/registry/events/queries.js';
import { digestOf, type MetadataStoreFixture } from './metadata-store.contract.js';

const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

/** Stores an image manifest with these layers (labels) and records its lineage, as a push does. */
async function pushImage(
  store: MetadataStore,
  repository: string,
  label: string,
  layers: string[],
  base: { name?: string; digest?: string } = {},
): Promise<string> {
  const digest = digestOf(`${repository}/${label}`);
  const layerDigests = layers.map((layer) => digestOf(`layer ${layer}`));
  await store.transaction(async (tx) => {
    await store.putManifest(
      repository,
      { digest, mediaType: IMAGE, size: 100, artifactType: null, subject: null, annotations: null, blobs: [digestOf(`config ${label}`), ...layerDigests], manifests: [] },
      tx,
    );
    await store.lineage.record(repository, digest, { prefixes: prefixHashes(layerDigests), baseName: base.name ?? null, baseDigest: base.digest ?? null }, tx);
  });
  return digest;
}

async function pushIndex(store: MetadataStore, repository: string, label: string, children: string[]): Promise<string> {
  const digest = digestOf(`${repository}/${label}`);
  await store.transaction(async (tx) => {
    await store.putManifest(repository, { digest, mediaType: INDEX, size: 100, artifactType: null, subject: null, annotations: null, blobs: [], manifests: children }, tx);
    await store.lineage.record(repository, digest, { prefixes: [], baseName: null, baseDigest: null }, tx);
  });
  return digest;
}

const names = (images: Array<{ repository: string; digest: string }>) => images.map((i) => `${i.repository}@${i.digest}`).sort();

export function runLineageContract(name: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`lineage contract: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;
    beforeEach(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('finds bases and dependents by layer prefix, nearest first, across repositories', async () => {
      const debian = await pushImage(store, 'base/debian', 'v12', ['os1', 'os2']);
      const python = await pushImage(store, 'base/python', 'v3', ['os1', 'os2', 'py']);
      const app = await pushImage(store, 'team/app', 'v1', ['os1', 'os2', 'py', 'app']);
      const unrelated = await pushImage(store, 'team/other', 'v1', ['os1', 'other']);
      const sameLayers = await pushImage(store, 'team/relabel', 'v1', ['os1', 'os2']);

      const [appBases] = await basesOf(store, { repository: 'team/app', digest: app });
      assert.deepEqual(
        appBases!.bases.map((b) => [b.repository, b.layers, b.direct]),
        [['base/python', 3, true], ['base/debian', 2, false], ['team/relabel', 2, false]],
      );
      const [otherBases] = await basesOf(store, { repository: 'team/other', digest: unrelated });
      assert.deepEqual(otherBases!.bases, [], 'sharing a first layer is not being built on an image');

      const direct = await dependentsOf(store, { repository: 'base/debian', digest: debian }, 1);
      assert.deepEqual(names(direct), [`base/python@${python}`], 'direct only: python, not app (built on python) nor other nor an equal-layer image');
      const transitive = await dependentsOf(store, { repository: 'base/debian', digest: debian }, 5);
      assert.deepEqual(transitive.map((d) => [d.repository, d.generation, d.via]), [['base/python', 1, 'layers'], ['team/app', 2, 'layers']]);
      assert.deepEqual(names(await dependentsOf(store, { repository: 'team/relabel', digest: sameLayers }, 1)), [`base/python@${python}`]);
    });

    it('answers a multi-arch index per platform, naming the indexes that contain each image', async () => {
      const baseAmd = await pushImage(store, 'base/os', 'amd64', ['amd-os']);
      const baseArm = await pushImage(store, 'base/os', 'arm64', ['arm-os']);
      const baseIndex = await pushIndex(store, 'base/os', 'index', [baseAmd, baseArm]);
      await store.putTag('base/os', '1', baseIndex);
      const appAmd = await pushImage(store, 'team/app', 'amd64', ['amd-os', 'amd-app']);
      const appArm = await pushImage(store, 'team/app', 'arm64', ['arm-os', 'arm-app']);
      const appIndex = await pushIndex(store, 'team/app', 'index', [appAmd, appArm]);
      await store.putTag('team/app', 'v1', appIndex);

      const platforms = await basesOf(store, { repository: 'team/app', digest: appIndex });
      const byPlatform = new Map(platforms.map((p) => [p.digest, p.bases.map((b) => [b.digest, b.indexes])]));
      assert.deepEqual(byPlatform.get(appAmd), [[baseAmd, [{ digest: baseIndex, tags: ['1'] }]]]);
      assert.deepEqual(byPlatform.get(appArm), [[baseArm, [{ digest: baseIndex, tags: ['1'] }]]]);

      const dependents = await dependentsOf(store, { repository: 'base/os', digest: baseIndex });
      assert.deepEqual(names(dependents), names([{ repository: 'team/app', digest: appAmd }, { repository: 'team/app', digest: appArm }]));
      for (const d of dependents) assert.deepEqual(d.indexes, [{ digest: appIndex, tags: ['v1'] }]);
      // An annotation may name the multi-arch base itself.
      const annotated = await pushImage(store, 'team/tool', 'v1', ['tool'], { digest: baseIndex });
      const [toolBases] = await basesOf(store, { repository: 'team/tool', digest: annotated });
      assert.deepEqual(toolBases!.bases.map((b) => [b.repository, b.digest, b.via, b.tags]), [['base/os', baseIndex, 'annotation', ['1']]]);
      const withAnnotated = await dependentsOf(store, { repository: 'base/os', digest: baseIndex });
      assert.deepEqual(withAnnotated.filter((d) => d.via === 'annotation').map((d) => d.digest), [annotated]);
    });

    it('uses the base annotations: the digest links images whose layers do not share a prefix', async () => {
      const base = await pushImage(store, 'base/alpine', 'v3', ['alpine']);
      // A squashed image: its layers are not the base's, but it says what it was built from.
      const squashed = await pushImage(store, 'team/squashed', 'v1', ['flat'], { name: 'registry.example/base/alpine:3', digest: base });
      const [bases] = await basesOf(store, { repository: 'team/squashed', digest: squashed });
      assert.deepEqual(bases!.bases.map((b) => [b.repository, b.digest, b.via]), [['base/alpine', base, 'annotation']]);
      assert.deepEqual(bases!.annotation, { name: 'registry.example/base/alpine:3', digest: base });
      const dependents = await dependentsOf(store, { repository: 'base/alpine', digest: base });
      assert.deepEqual(dependents.map((d) => [d.repository, d.digest, d.via, d.generation]), [['team/squashed', squashed, 'annotation', 1]]);
    });

    it('deleting a base removes its lineage rows: it is nobody’s base any more', async () => {
      const base = await pushImage(store, 'base/debian', 'v12', ['os1']);
      const middle = await pushImage(store, 'base/tools', 'v1', ['os1', 'tools']);
      const app = await pushImage(store, 'team/app', 'v1', ['os1', 'tools', 'app']);
      assert.equal(await store.deleteManifest('base/debian', base), true);
      assert.equal(await store.lineage.get('base/debian', base), null);
      const [appBases] = await basesOf(store, { repository: 'team/app', digest: app });
      assert.deepEqual(appBases!.bases.map((b) => b.digest), [middle]);
      const [middleBases] = await basesOf(store, { repository: 'base/tools', digest: middle });
      assert.deepEqual(middleBases!.bases, []);
      // Re-pushing the base brings it back: lineage rows are written again with the manifest.
      await pushImage(store, 'base/debian', 'v12', ['os1']);
      assert.deepEqual(names(await dependentsOf(store, { repository: 'base/debian', digest: base }, 1)), [`base/tools@${middle}`]);
    });

    it('records every tag move with the tag write, newest first, and rolls back with it', async () => {
      const one = await pushImage(store, 'team/app', 'one', ['a']);
      const two = await pushImage(store, 'team/app', 'two', ['b']);
      await store.putTag('team/app', 'prod', one, undefined, 'alice');
      await store.putTag('team/app', 'prod', one, undefined, 'alice');
      await store.transaction((tx) => store.putTag('team/app', 'prod', two, tx, 'bob'));
      await assert.rejects(
        store.transaction(async (tx) => {
          await store.putTag('team/app', 'prod', one, tx, 'mallory');
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await store.deleteTag('team/app', 'prod'), true);
      assert.equal(await store.deleteTag('team/app', 'prod'), false);
      await store.putTag('team/app', 'prod', one);
      await store.putTag('team/app', 'other', one);
      await store.deleteManifest('team/app', one, undefined, 'carol');

      const moves = (await store.lineage.tagHistory('team/app', 'prod', 10)).map((m) => [m.oldDigest, m.newDigest, m.actor]);
      assert.deepEqual(moves, [
        [one, null, 'carol'],
        [null, one, null],
        [two, null, null],
        [one, two, 'bob'],
        [null, one, 'alice'],
      ]);
      assert.equal((await store.lineage.tagHistory('team/app', 'prod', 2)).length, 2);
      const [latest] = await store.lineage.tagHistory('team/app', 'other', 10);
      assert.deepEqual([latest!.repository, latest!.tag, latest!.oldDigest, latest!.newDigest], ['team/app', 'other', one, null]);
      assert.ok(latest!.movedAt instanceof Date && !Number.isNaN(latest!.movedAt.getTime()));
      assert.deepEqual(await store.lineage.tagHistory('team/none', 'prod', 10), []);
    });

    it('stale images: still-tagged images built on what the tag pointed at before its last move', async () => {
      const old = await pushImage(store, 'base/debian', 'old', ['os-old']);
      await store.putTag('base/debian', '12', old);
      const api = await pushImage(store, 'team/api', 'v1', ['os-old', 'api']);
      await store.putTag('team/api', 'latest', api);
      const web = await pushImage(store, 'team/web', 'v1', ['os-old', 'web']);
      await store.putTag('team/web', 'latest', web);
      await pushImage(store, 'team/untagged', 'v1', ['os-old', 'scratch']);
      assert.deepEqual((await staleFor(store, 'base/debian', '12')).stale, [], 'a tag that never moved makes nothing stale');

      // The new base is the old one plus an upgrade layer: built on the old, but not stale itself.
      const fresh = await pushImage(store, 'base/debian', 'new', ['os-old', 'upgrade']);
      await store.putTag('base/debian', '12', fresh, undefined, 'ci');
      const report = await staleFor(store, 'base/debian', '12');
      assert.equal(report.previous, old);
      assert.equal(report.current, fresh);
      assert.equal(report.movedBy, 'ci');
      assert.deepEqual(report.stale.map((s) => [s.repository, s.tags]), [['team/api', ['latest']], ['team/web', ['latest']]]);

      // api is rebuilt on the new base and its tag moves: only web is still stale.
      const rebuilt = await pushImage(store, 'team/api', 'v2', ['os-old', 'upgrade', 'api']);
      await store.putTag('team/api', 'latest', rebuilt);
      assert.deepEqual((await staleFor(store, 'base/debian', '12')).stale.map((s) => s.repository), ['team/web']);
    });

    it('stale images per namespace: every moved tag of the namespace (and only of it) with its stale images', async () => {
      const old = await pushImage(store, 'base/debian', 'old', ['os-old']);
      await store.putTag('base/debian', '12', old);
      const oldAlpine = await pushImage(store, 'base/alpine', 'old', ['alpine-old']);
      await store.putTag('base/alpine', '3', oldAlpine);
      const api = await pushImage(store, 'team/api', 'v1', ['os-old', 'api']);
      await store.putTag('team/api', 'latest', api);
      const tool = await pushImage(store, 'team/tool', 'v1', ['alpine-old', 'tool']);
      await store.putTag('team/tool', 'latest', tool);
      // A repository whose name merely starts with the namespace's is not in it.
      const lookalike = await pushImage(store, 'base-x', 'old', ['os-old', 'x']);
      await store.putTag('base-x', '1', lookalike);
      await store.putTag('base-x', '1', await pushImage(store, 'base-x', 'new', ['x-new']));
      assert.deepEqual(await staleInNamespace(store, 'base'), [], 'nothing moved yet');

      await store.putTag('base/debian', '12', await pushImage(store, 'base/debian', 'new', ['os-new']));
      await store.putTag('base/alpine', '3', await pushImage(store, 'base/alpine', 'new', ['alpine-new']));
      const reports = await staleInNamespace(store, 'base');
      assert.deepEqual(reports.map((r) => [r.repository, r.tag, r.stale.map((s) => s.repository)]), [
        ['base/alpine', '3', ['team/tool']],
        ['base/debian', '12', ['team/api']],
      ]);
      assert.deepEqual((await staleInNamespace(store, 'base', undefined, async (repository) => repository !== 'team/tool')).map((r) => r.tag), ['12']);
      assert.deepEqual(await staleInNamespace(store, 'team'), []);
    });
  });
}
