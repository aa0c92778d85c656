/**
 * Retention on SQLite and PostgreSQL through `npm run admin -- retention …` and the API:
 * keep-last and keep-days by tag pattern, a dry run that removes nothing, immutable tags
 * kept, and the manifest and referrers of a removed image removed with it (then freed by
 * garbage collection).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retentionOf } from '../../services/registry/lifecycle/index.js';
import { admin, digestsOnDisk, imageDigests, type LifecycleRegistry, makeImage, pushImage, skipReason, startLifecycleRegistry } from './harness.js';


async function tagsOf(registry: LifecycleRegistry, repo: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/${repo}/tags/list`);
  const body = (await response.json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`retention (${dialect})`, { skip }, () => {
    it('keeps the newest tags of a pattern, never an immutable one, and removes what it drops with its referrers', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        const images = Array.from({ length: 5 }, (_, i) => makeImage(`build ${i}`, [Buffer.from(`build layer ${i}\n`.repeat(30))]));
        for (const [i, image] of images.entries()) assert.ok(await pushImage(registry.url, 'ci/app', `build-${i}`, image));
        assert.ok(await pushImage(registry.url, 'ci/app', 'stable', images[0]!));
        const signature = makeImage('sig of build 1', [Buffer.from('signature\n')], { digest: images[1]!.digest, size: images[1]!.manifest.length });
        assert.ok(await pushImage(registry.url, 'ci/app', signature.digest, signature));
        assert.ok(await pushImage(registry.url, 'other/app', 'build-0', images[0]!));

        const added = await admin(registry, ['retention', 'add', 'ci/**', 'build-*', '--keep-last', '2']);
        assert.equal(added.code, 0, added.err);
        assert.equal((await admin(registry, ['rules', 'add', 'immutable', 'ci/app', 'build-2'])).code, 0);
        const bad = await admin(registry, ['retention', 'add', 'ci/**', '*']);
        assert.equal(bad.code, 1);
        assert.match(bad.err, /needs --keep-last N and\/or --keep-days N/);

        const dry = await admin(registry, ['retention', 'run', '--dry-run']);
        assert.equal(dry.code, 0, dry.err);
        assert.match(dry.out, /would remove tag ci\/app:build-0/);
        assert.match(dry.out, /dry run: 2 tag\(s\)/);
        assert.equal((await tagsOf(registry, 'ci/app')).length, 6, 'a dry run removes nothing');

        const run = await admin(registry, ['retention', 'run', '--json']);
        assert.equal(run.code, 0, run.err);
        const report = JSON.parse(run.out) as { tags: Array<{ tag: string }>; manifests: Array<{ digest: string }> };
        assert.deepEqual(report.tags.map((t) => t.tag).sort(), ['build-0', 'build-1']);
        // build-0's manifest keeps its other tag; build-1's goes, with its signature.
        assert.deepEqual(report.manifests.map((m) => m.digest).sort(), [images[1]!.digest, signature.digest].sort());
        assert.deepEqual(await tagsOf(registry, 'ci/app'), ['build-2', 'build-3', 'build-4', 'stable']);
        assert.deepEqual(await tagsOf(registry, 'other/app'), ['build-0'], 'other repositories are untouched');

        await registry.collector().run();
        const onDisk = await digestsOnDisk(registry.blobRoot);
        for (const digest of [...imageDigests(images[1]!), ...imageDigests(signature)]) assert.ok(!onDisk.has(digest), `${digest} freed`);
        for (const digest of imageDigests(images[0]!)) assert.ok(onDisk.has(digest), `${digest} kept`);

        // keep-days: everything was pushed just now, so a 1-day policy keeps it until a day has passed.
        const retention = retentionOf(registry.metadata);
        await retention.add({ repositoryPattern: 'other/*', tagPattern: '*', keepLast: null, keepDays: 1 }, 'test');
        assert.equal((await retention.run()).tags.length, 0);
        const later = await retention.run({ nowMs: Date.now() + 2 * 86_400_000 });
        // ci/app still keeps its two newest build-* tags and the immutable build-2.
        assert.deepEqual(later.tags.map((t) => `${t.repository}:${t.tag}`), ['other/app:build-0']);
      } finally {
        await registry.close();
      }
    });
  });
}
