/**
 * What online garbage collection deletes and what it keeps, through the HTTP API and the
 * bytes storage holds, run on SQLite and on PostgreSQL (gc-sqlite.test.ts,
 * gc-postgres.test.ts) over the filesystem driver, and on SQLite over S3 (gc-s3.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Knex } from 'knex';
import { parseDigest } from '../../shared/grammar/reference.js';
import { GcStore } from '../../services/registry/lifecycle/gc-store.js';
import { blobDataPath } from '../../services/registry/storage/paths.js';
import {
  assertImagePulls,
  imageDigests,
  makeImage,
  makeIndex,
  pushImage,
  putManifest,
  sha256,
  startLifecycleRegistry,
  uploadBlob,
  type Dialect,
  type StorageKind,
} from './harness.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const HOUR_MS = 3600_000;

function layer(label: string): Buffer {
  return Buffer.from(`${label}\n`.repeat(200));
}

async function deleteManifest(url: string, repo: string, digest: string): Promise<void> {
  const response = await fetch(`${url}/v2/${repo}/manifests/${digest}`, { method: 'DELETE' });
  assert.equal(response.status, 202);
}

export function runGcContract(dialect: Dialect, storage: StorageKind = 'filesystem'): void {
  describe(`garbage collection (${dialect}, ${storage})`, () => {
    it('deletes a blob nothing references and reports its bytes, keeps a tagged image whole', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const kept = makeImage('kept', [layer('a'), layer('b')]);
        assert.ok(await pushImage(registry.url, 'team/app', 'v1', kept));
        const stray = layer('stray upload');
        assert.equal(await uploadBlob(registry.url, 'team/app', stray), 201);

        const dry = await registry.collector().run({ dryRun: true });
        assert.deepEqual(dry.links.map((l) => l.digest), [sha256(stray)]);
        assert.ok((await registry.storedDigests()).has(sha256(stray)), 'a dry run deletes nothing');

        const report = await registry.collector().run();
        assert.deepEqual(report.links, [{ repository: 'team/app', digest: sha256(stray) }]);
        assert.deepEqual(report.blobs, [{ digest: sha256(stray), size: stray.length }]);
        assert.equal(report.bytesFreed, stray.length);
        assert.deepEqual([...(await registry.storedDigests())].sort(), imageDigests(kept).sort());
        await assertImagePulls(registry.url, 'team/app', 'v1', kept);
      } finally {
        await registry.close();
      }
    });

    it('frees a deleted image but keeps the layers another image shares, also across repositories', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const shared = layer('shared base');
        const gone = makeImage('gone', [shared, layer('only in gone')]);
        const stays = makeImage('stays', [shared]);
        assert.ok(await pushImage(registry.url, 'team/one', 'v1', gone));
        assert.ok(await pushImage(registry.url, 'team/two', 'v1', stays));
        await deleteManifest(registry.url, 'team/one', gone.digest);

        await registry.collector().run();
        const onDisk = await registry.storedDigests();
        assert.deepEqual([...onDisk].sort(), imageDigests(stays).sort());
        await assertImagePulls(registry.url, 'team/two', 'v1', stays);
        assert.equal((await fetch(`${registry.url}/v2/team/one/blobs/${sha256(shared)}`, { method: 'HEAD' })).status, 404);
      } finally {
        await registry.close();
      }
    });

    it('keeps the children of a tagged multi-arch index, even when untagged manifests are collected', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const amd = makeImage('amd64', [layer('amd')]);
        const arm = makeImage('arm64', [layer('arm')]);
        for (const child of [amd, arm]) assert.ok(await pushImage(registry.url, 'team/multi', child.digest, child));
        const index = makeIndex([amd, arm]);
        assert.equal(await putManifest(registry.url, 'team/multi', 'v1', index.bytes, INDEX), 201);
        const loose = makeImage('loose', [layer('loose')]);
        assert.ok(await pushImage(registry.url, 'team/multi', loose.digest, loose));

        const report = await registry.collector({ deleteUntagged: true }).run();
        assert.deepEqual(report.manifests, [{ repository: 'team/multi', digest: loose.digest }]);
        const onDisk = await registry.storedDigests();
        for (const digest of [...imageDigests(amd), ...imageDigests(arm), index.digest]) assert.ok(onDisk.has(digest), digest);
        for (const digest of imageDigests(loose)) assert.ok(!onDisk.has(digest), `${digest} of the untagged image`);
        for (const child of [amd, arm]) await assertImagePulls(registry.url, 'team/multi', child.digest, child);
      } finally {
        await registry.close();
      }
    });

    it('keeps untagged manifests by default', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const untagged = makeImage('untagged', [layer('u')]);
        assert.ok(await pushImage(registry.url, 'team/keep', untagged.digest, untagged));
        const report = await registry.collector().run();
        assert.equal(report.manifests.length + report.links.length + report.blobs.length, 0);
        await assertImagePulls(registry.url, 'team/keep', untagged.digest, untagged);
      } finally {
        await registry.close();
      }
    });

    it('deletes referrers with their subject, keeps them while the subject is there', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const subject = makeImage('signed', [layer('signed')]);
        assert.ok(await pushImage(registry.url, 'team/signed', 'v1', subject));
        const signature = makeImage('signature', [layer('signature bytes')], { digest: subject.digest, size: subject.manifest.length });
        assert.ok(await pushImage(registry.url, 'team/signed', signature.digest, signature));

        assert.equal((await registry.collector().run()).manifests.length, 0, 'a referrer of a present subject stays');
        await deleteManifest(registry.url, 'team/signed', subject.digest);
        const report = await registry.collector().run();
        assert.deepEqual(report.manifests, [{ repository: 'team/signed', digest: signature.digest }]);
        assert.equal((await registry.storedDigests()).size, 0);
      } finally {
        await registry.close();
      }
    });

    it('leaves what was touched within the grace period, deletes it after', async () => {
      const registry = await startLifecycleRegistry(dialect, 3600, { storage });
      try {
        const stray = layer('recent');
        assert.equal(await uploadBlob(registry.url, 'team/recent', stray), 201);
        const now = await registry.collector().run();
        assert.equal(now.links.length + now.blobs.length, 0);
        const dry = await registry.collector({ offsetMs: 2 * HOUR_MS }).run({ dryRun: true });
        assert.deepEqual(dry.links.map((l) => l.digest), [sha256(stray)]);
        const later = await registry.collector({ offsetMs: 2 * HOUR_MS }).run();
        assert.deepEqual(later.blobs, [{ digest: sha256(stray), size: stray.length }]);
        assert.equal((await registry.storedDigests()).size, 0);
      } finally {
        await registry.close();
      }
    });

    it('sweeps bytes that no metadata knows of (a crash before the link), once the grace period has passed since they were written', async () => {
      const registry = await startLifecycleRegistry(dialect, 3600, { storage });
      try {
        const kept = makeImage('kept', [layer('kept')]);
        assert.ok(await pushImage(registry.url, 'team/sweep', 'v1', kept));
        const orphan = layer('never linked');
        await registry.storage.putContent(blobDataPath(parseDigest(sha256(orphan))), orphan);

        assert.equal((await registry.collector().run()).blobs.length, 0, 'written just now: within the grace period');
        assert.ok((await registry.storedDigests()).has(sha256(orphan)));
        const later = await registry.collector({ offsetMs: 2 * HOUR_MS }).run();
        assert.deepEqual(later.blobs, [{ digest: sha256(orphan), size: orphan.length }]);
        assert.deepEqual([...(await registry.storedDigests())].sort(), imageDigests(kept).sort());
        await assertImagePulls(registry.url, 'team/sweep', 'v1', kept);
      } finally {
        await registry.close();
      }
    });

    it('a HEAD that finds a blob postpones its collection by the grace period', async () => {
      const registry = await startLifecycleRegistry(dialect, 3600, { storage });
      try {
        const stray = layer('headed');
        assert.equal(await uploadBlob(registry.url, 'team/head', stray), 201);
        // A collector an hour and a half ahead sees the upload's protection expired...
        const dry = await registry.collector({ offsetMs: 1.5 * HOUR_MS }).run({ dryRun: true });
        assert.equal(dry.links.length, 1);
        // ...but a HEAD now protects until one hour from now, so one ahead by 30 minutes keeps it,
        const head = await fetch(`${registry.url}/v2/team/head/blobs/${sha256(stray)}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal((await registry.collector({ offsetMs: 0.5 * HOUR_MS }).run()).links.length, 0);
        // and only past that is it collected.
        assert.equal((await registry.collector({ offsetMs: 1.5 * HOUR_MS }).run()).blobs.length, 1);
      } finally {
        await registry.close();
      }
    });
    it('pages through reviews that share one due time, past rows it keeps, to the last one', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const gc = new GcStore(registry.metadata.db);
        const orphans = Array.from({ length: 9 }, (_, i) => layer(`orphan ${i}`));
        for (const orphan of orphans) await registry.storage.putContent(blobDataPath(parseDigest(sha256(orphan))), orphan);
        // Referenced ones sit between the orphans in digest order: each page keeps some and
        // the cursor must go on after them within the same due time.
        const kept = makeImage('kept', [layer('kept a'), layer('kept b')]);
        assert.ok(await pushImage(registry.url, 'team/paging', 'v1', kept));
        const dueMs = Date.now() - 1000;
        await gc.enqueueEach(gc.db, [...orphans, layer('kept a'), layer('kept b')].map((bytes) => ({ digest: sha256(bytes), reviewAfterMs: dueMs })));

        const report = await registry.collector({ batchSize: 2 }).run();
        assert.deepEqual(report.blobs.map((b) => b.digest).sort(), orphans.map(sha256).sort());
        assert.deepEqual([...(await registry.storedDigests())].sort(), imageDigests(kept).sort());
        await assertImagePulls(registry.url, 'team/paging', 'v1', kept);
      } finally {
        await registry.close();
      }
    });

    it('re-checks a page of due blobs in one transaction: takes only the review rows still due', async () => {
      const registry = await startLifecycleRegistry(dialect, 0, { storage });
      try {
        const gc = new GcStore(registry.metadata.db);
        const [due, bumped] = ['due', 'bumped'].map((label) => sha256(label));
        const nowMs = Date.now();
        await gc.enqueue(gc.db, [due!], nowMs - 1);
        // Touched again after the page was read: no longer due, not garbage this round.
        await gc.enqueue(gc.db, [bumped!], nowMs + HOUR_MS);
        const taken = await registry.metadata.transaction(async (tx) => {
          const trx = tx as Knex.Transaction;
          return gc.takeDueReviews(trx, [...(await gc.tryLockEach(trx, [due!, bumped!]))], nowMs);
        });
        assert.deepEqual([...taken], [due]);
        assert.deepEqual([...(await gc.reviewedAmong(gc.db, [due!, bumped!]))], [bumped]);
      } finally {
        await registry.close();
      }
    });
  });
}
