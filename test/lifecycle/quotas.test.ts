/**
 * Namespace quotas on SQLite and PostgreSQL: set with `npm run admin -- quotas set`, a blob
 * counted once per namespace however many images share it, a push over the hard limit
 * refused with the namespace, usage and limit named, a soft limit counted, and usage that
 * equals a recount of what the test knows is stored after concurrent pushes, deletes and
 * garbage collection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetricsRegistry } from '../../shared/observability/metrics.js';
import { admin, digestsOnDisk, type Image, type LifecycleRegistry, makeImage, pushImage, sha256, skipReason, startLifecycleRegistry, uploadBlob } from './harness.js';


async function usageOf(registry: LifecycleRegistry, name: string): Promise<number> {
  const result = await admin(registry, ['quotas', 'usage', name, '--json']);
  assert.equal(result.code, 0, result.err);
  return (JSON.parse(result.out) as { usageBytes: number }).usageBytes;
}

/** What the test knows is stored: each distinct digest's size once. */
function recount(images: Image[]): number {
  const sizes = new Map<string, number>();
  for (const image of images) {
    for (const blob of [image.config, ...image.layers, image.manifest]) sizes.set(sha256(blob), blob.length);
  }
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`namespace quotas (${dialect})`, { skip }, () => {
    it('counts shared blobs once, refuses a push over the hard limit naming namespace, usage and limit, warns over the soft one', async () => {
      const metrics = createMetricsRegistry('registry', { processMetrics: false });
      const registry = await startLifecycleRegistry(dialect, 0, { metrics });
      try {
        const shared = Buffer.from('shared base layer\n'.repeat(40));
        const one = makeImage('one', [shared, Buffer.from('one\n'.repeat(30))]);
        const two = makeImage('two', [shared]);
        const set = await admin(registry, ['quotas', 'set', 'team', '5000']);
        assert.equal(set.code, 0, set.err);
        assert.match(set.out, /quota of team: hard limit 5000 bytes/);
        assert.ok(await pushImage(registry.url, 'team/one', 'v1', one));
        assert.ok(await pushImage(registry.url, 'team/two', 'v1', two));
        assert.equal(await usageOf(registry, 'team'), recount([one, two]));
        assert.equal(await usageOf(registry, 'team/two'), recount([two]));
        assert.equal(await usageOf(registry, 'other'), 0);
        // The same figures from the API.
        const repositoryApi = await fetch(`${registry.url}/v2/team/two/_dockyard/usage`);
        assert.deepEqual(await repositoryApi.json(), { repository: 'team/two', namespace: 'team', usageBytes: recount([two]) });
        const namespaceApi = await fetch(`${registry.url}/v2/_dockyard/usage/team`);
        assert.deepEqual(await namespaceApi.json(), { namespace: 'team', usageBytes: recount([one, two]), hardBytes: 5000, softBytes: null });
        assert.equal((await fetch(`${registry.url}/v2/_dockyard/usage/Bad..Name`)).status, 400);

        const used = recount([one, two]);
        const big = Buffer.alloc(5000 - used + 1, 7);
        const start = await fetch(`${registry.url}/v2/team/one/blobs/uploads/`, { method: 'POST' });
        const put = await fetch(`${registry.url}${start.headers.get('location')}?digest=${sha256(big)}`, { method: 'PUT', body: big });
        assert.equal(put.status, 403);
        const body = (await put.json()) as { errors: Array<{ code: string; message: string }> };
        assert.equal(body.errors[0]!.code, 'DENIED');
        assert.equal(body.errors[0]!.message, `quota exceeded for namespace team: it uses ${used} bytes, this push adds ${big.length}, the hard limit is 5000 bytes`);
        assert.equal(await usageOf(registry, 'team'), used, 'the refused blob is not counted');
        // Size known up front (monolithic POST): refused before any byte is stored.
        const early = Buffer.alloc(big.length, 8);
        const post = await fetch(`${registry.url}/v2/team/one/blobs/uploads/?digest=${sha256(early)}`, { method: 'POST', body: early });
        assert.equal(post.status, 403);
        assert.match(((await post.json()) as { errors: Array<{ message: string }> }).errors[0]!.message, /^quota exceeded for namespace team/);
        assert.ok(!(await digestsOnDisk(registry.blobRoot)).has(sha256(early)), 'the bytes were never stored');
        // Another namespace is not limited; the same bytes fit once the limit is raised.
        assert.equal(await uploadBlob(registry.url, 'elsewhere/app', big), 201);
        assert.equal((await admin(registry, ['quotas', 'set', 'team', '10KiB', '--soft', '5000'])).code, 0);
        assert.equal(await uploadBlob(registry.url, 'team/one', big), 201);
        assert.match(await metrics.metrics(), /registry_quota_soft_exceeded_total\{namespace="team",service="registry"\} 1/);
        const listed = JSON.parse((await admin(registry, ['quotas', 'list', '--json'])).out) as Array<{ namespace: string; hardBytes: number; softBytes: number; usageBytes: number }>;
        assert.deepEqual(listed, [{ namespace: 'team', hardBytes: 10240, softBytes: 5000, usageBytes: used + big.length }]);
        const bad = await admin(registry, ['quotas', 'set', 'team', 'lots']);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /"lots" is not a size/);
      } finally {
        await registry.close();
      }
    });

    it('usage equals a recount after concurrent pushes, deletes and garbage collection, and never passes the hard limit', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        const base = Buffer.from('common base\n'.repeat(60));
        const images = Array.from({ length: 16 }, (_, i) => makeImage(`c${i}`, [base, Buffer.from(`own ${i}\n`.repeat(40 + i))]));
        const limit = recount(images.slice(0, 10));
        assert.equal((await admin(registry, ['quotas', 'set', 'ns', String(limit)])).code, 0);
        const pushed = await Promise.all(images.map((image, i) => pushImage(registry.url, `ns/app${i % 4}`, `t${i}`, image)));
        const accepted = images.filter((_, i) => pushed[i]);
        assert.ok(accepted.length > 0 && accepted.length < images.length, `some pushes fit, some are refused (${accepted.length})`);
        assert.ok((await usageOf(registry, 'ns')) <= limit);

        // Delete half of the accepted images, collect, and compare with what is left.
        const indexes = images.map((image, i) => ({ image, i })).filter(({ i }) => pushed[i]);
        const deleted = indexes.filter((_, k) => k % 2 === 0);
        await Promise.all(
          deleted.map(({ image, i }) => fetch(`${registry.url}/v2/ns/app${i % 4}/manifests/${image.digest}`, { method: 'DELETE' }).then((r) => r.arrayBuffer())),
        );
        await registry.collector().run();
        const live = indexes.filter((_, k) => k % 2 !== 0).map(({ image }) => image);
        assert.equal(await usageOf(registry, 'ns'), recount(live));
      } finally {
        await registry.close();
      }
    });
  });
}
