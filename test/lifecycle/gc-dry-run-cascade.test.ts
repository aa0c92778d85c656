/**
 * `gc run --dry-run` lists what a run would delete, not only what is garbage now: what
 * becomes garbage once the current garbage is gone (a referrer of a referrer whose subject
 * was deleted; the children of an unreferenced index when untagged manifests are collected;
 * the links and bytes of all of those). Checked by comparing the dry run's report with the
 * real run's that follows it, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GcReport } from '../../services/registry/lifecycle/gc.js';
import { makeImage, makeIndex, pushImage, putManifest, skipReason, startLifecycleRegistry } from './harness.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';

function sorted(report: GcReport): { manifests: string[]; links: string[]; blobs: string[] } {
  return {
    manifests: report.manifests.map((m) => `${m.repository}@${m.digest}`).sort(),
    links: report.links.map((l) => `${l.repository} ${l.digest}`).sort(),
    blobs: report.blobs.map((b) => `${b.digest} ${b.size}`).sort(),
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`gc dry run cascade (${dialect})`, { skip }, () => {
    it('lists the referrers of a referrer whose subject is deleted, with their links and bytes', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        const subject = makeImage('subject', [Buffer.from('subject layer\n'.repeat(20))]);
        assert.ok(await pushImage(registry.url, 'team/app', 'v1', subject));
        const signature = makeImage('signature', [Buffer.from('signature\n')], { digest: subject.digest, size: subject.manifest.length });
        assert.ok(await pushImage(registry.url, 'team/app', signature.digest, signature));
        const countersignature = makeImage('countersignature', [Buffer.from('countersignature\n')], { digest: signature.digest, size: signature.manifest.length });
        assert.ok(await pushImage(registry.url, 'team/app', countersignature.digest, countersignature));
        const kept = makeImage('kept', [Buffer.from('kept layer\n'.repeat(20))]);
        assert.ok(await pushImage(registry.url, 'team/app', 'v2', kept));
        const deleted = await fetch(`${registry.url}/v2/team/app/manifests/${subject.digest}`, { method: 'DELETE' });
        assert.equal(deleted.status, 202);

        const dry = sorted(await registry.collector().run({ dryRun: true }));
        assert.deepEqual(dry.manifests, [`team/app@${signature.digest}`, `team/app@${countersignature.digest}`].sort(), 'the countersignature cascades');
        const real = sorted(await registry.collector().run());
        assert.deepEqual(dry, real);
        assert.ok(real.blobs.length >= 6, `layers, configs and manifests of all three go: ${real.blobs.length}`);
      } finally {
        await registry.close();
      }
    });

    it('lists the children of an unreferenced index when untagged manifests are collected', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        const children = ['amd64', 'arm64'].map((arch) => makeImage(arch, [Buffer.from(`${arch} layer\n`.repeat(20))]));
        for (const child of children) assert.ok(await pushImage(registry.url, 'team/multi', child.digest, child));
        const index = makeIndex(children);
        assert.equal(await putManifest(registry.url, 'team/multi', index.digest, index.bytes, INDEX), 201);
        const tagged = makeImage('tagged', [Buffer.from('tagged layer\n')]);
        assert.ok(await pushImage(registry.url, 'team/multi', 'v1', tagged));

        const now = sorted(await registry.collector({ deleteUntagged: true }).run({ dryRun: true }));
        assert.deepEqual(now.manifests, [index.digest, ...children.map((c) => c.digest)].map((d) => `team/multi@${d}`).sort());
        const real = sorted(await registry.collector({ deleteUntagged: true }).run());
        assert.deepEqual(now, real);
        const left = await registry.storedDigests();
        for (const child of children) assert.ok(!left.has(child.digest));
        assert.ok(left.has(tagged.digest));
      } finally {
        await registry.close();
      }
    });
  });
}
