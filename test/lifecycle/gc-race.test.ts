/**
 * Garbage collection racing concurrent pushes that reuse the same layers, on SQLite and
 * PostgreSQL over the filesystem driver, and on SQLite over S3 (a real Ceph RGW). fast-check draws the images (which shared layers each uses), which images
 * are deleted again, and the clocks of the collector rounds that run meanwhile: a round
 * running ahead by more than the grace period treats every touch as expired, which is the
 * grace-0 worst case, so the only thing between it and an in-flight push is the lock and
 * the re-check. Afterwards every acknowledged image that was not deleted must pull with
 * every byte verified, and one more round must leave exactly their bytes in storage.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { s3SuiteGate } from '../support/ceph-rgw.js';
import {
  assertImagePulls,
  type Dialect,
  type Image,
  imageDigests,
  makeImage,
  pushImage,
  skipReason,
  slowStorage,
  startLifecycleRegistry,
  type StorageKind,
} from './harness.js';

const GRACE_SECONDS = 2;
const SHARED_LAYERS = Array.from({ length: 6 }, (_, i) => Buffer.from(`shared layer ${i}\n`.repeat(300 + i)));
const PUSH_ATTEMPTS = 8;
const CONCURRENT_PUSHES = 8;

const scenario = fc.record({
  images: fc.array(fc.record({ shared: fc.uniqueArray(fc.nat(SHARED_LAYERS.length - 1), { minLength: 1, maxLength: 3 }), deleted: fc.boolean() }), {
    minLength: 20,
    maxLength: 40,
  }),
  // Collector clocks, in grace periods ahead of the real one (cycled through).
  gcOffsets: fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 1, maxLength: 8 }),
});

/** Pushes until acknowledged (a push may fail when the collector took a layer mid-push; clients retry). */
async function pushWithRetry(url: string, repo: string, tag: string, image: Image): Promise<boolean> {
  for (let attempt = 0; attempt < PUSH_ATTEMPTS; attempt += 1) {
    if (await pushImage(url, repo, tag, image)) return true;
  }
  return false;
}

type Plan = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

async function runScenario(dialect: Dialect, storage: StorageKind, plan: Plan): Promise<void> {
  // The RGW's round trips already widen the windows a slow filesystem is made to have.
  const storageHook = storage === 'filesystem' ? slowStorage(20) : undefined;
  const registry = await startLifecycleRegistry(dialect, GRACE_SECONDS, { storageHook, storage });
  try {
    const images = plan.images.map((spec, i) => ({
      ...spec,
      repo: `team/app${i % 2}`,
      tag: `t${i}`,
      image: makeImage(`image ${i}`, [...spec.shared.map((s) => SHARED_LAYERS[s]!), Buffer.from(`own layer ${i}\n`.repeat(100))]),
      acknowledged: false,
    }));
    let pushing = true;
    let rounds = 0;
    const collecting = (async () => {
      while (pushing) {
        const offsetMs = plan.gcOffsets[rounds % plan.gcOffsets.length]! * GRACE_SECONDS * 1000;
        await registry.collector({ offsetMs, batchSize: 2 }).run();
        rounds += 1;
      }
    })();
    let next = 0;
    const worker = async () => {
      while (next < images.length) {
        const entry = images[next++]!;
        entry.acknowledged = await pushWithRetry(registry.url, entry.repo, entry.tag, entry.image);
        if (entry.acknowledged && entry.deleted) {
          const response = await fetch(`${registry.url}/v2/${entry.repo}/manifests/${entry.image.digest}`, { method: 'DELETE' });
          assert.equal(response.status, 202);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENT_PUSHES }, worker));
    } finally {
      pushing = false;
      await collecting;
    }
    assert.ok(rounds > 0, 'the collector ran during the pushes');
    const live = images.filter((entry) => entry.acknowledged && !entry.deleted);
    assert.ok(live.length > 0, 'some pushes were acknowledged');
    for (const entry of live) await assertImagePulls(registry.url, entry.repo, entry.tag, entry.image);

    await registry.collector({ offsetMs: 2 * GRACE_SECONDS * 1000 }).run();
    const expected = new Set(live.flatMap((entry) => imageDigests(entry.image)));
    assert.deepEqual([...(await registry.storedDigests())].sort(), [...expected].sort());
    for (const entry of live) await assertImagePulls(registry.url, entry.repo, entry.tag, entry.image);
  } finally {
    await registry.close();
  }
}

function raceSuite(dialect: Dialect, storage: StorageKind, numRuns: number, skip?: string): void {
  describe(`garbage collection racing pushes (${dialect}, ${storage})`, () => {
    it('never loses an acknowledged image and frees everything else', { skip }, async () => {
      await fc.assert(
        fc.asyncProperty(scenario, (plan) => runScenario(dialect, storage, plan)),
        { numRuns, endOnFailure: true },
      );
    });
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) raceSuite(dialect, 'filesystem', 4, await skipReason(dialect));
if (await s3SuiteGate('garbage collection racing pushes: s3')) raceSuite('sqlite', 's3', 2);
