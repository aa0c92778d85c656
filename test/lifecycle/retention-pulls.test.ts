/**
 * Retention by last pull on SQLite and PostgreSQL: manifest pulls by tag and by digest are
 * noted in memory and written by a flush (lifecycle/pull-times.ts); a `--by pull` policy
 * keeps the most recently used tags (keep-last) and those used within N days (keep-days),
 * where a tag nobody pulled counts from its push; the same policy by push keeps others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/observability/logger.js';
import { retentionOf } from '../../services/registry/lifecycle/index.js';
import { PullTimes } from '../../services/registry/lifecycle/pull-times.js';
import { admin, type LifecycleRegistry, makeImage, pushImage, skipReason, startLifecycleRegistry } from './harness.js';

const DAY_MS = 86_400_000;

async function tagsOf(registry: LifecycleRegistry, repo: string): Promise<string[]> {
  const body = (await (await fetch(`${registry.url}/v2/${repo}/tags/list`)).json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}

async function pull(registry: LifecycleRegistry, repo: string, reference: string, method = 'GET'): Promise<void> {
  const response = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, { method, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`retention by last pull (${dialect})`, { skip }, () => {
    it('keeps the most recently pulled tags, counting pulls by tag and by digest, once the notes are flushed', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        const images = ['old', 'middle', 'new'].map((name) => makeImage(`pulled ${name}`, [Buffer.from(`layer ${name}\n`.repeat(20))]));
        for (const [i, image] of images.entries()) {
          assert.ok(await pushImage(registry.url, 'svc/app', `v${i}`, image));
          assert.ok(await pushImage(registry.url, 'svc/pushed', `v${i}`, image));
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // v0 by tag (HEAD counts), v1 by digest; v2 is the newest push and is never pulled.
        await pull(registry, 'svc/app', 'v0', 'HEAD');
        await pull(registry, 'svc/app', images[1]!.digest);
        const pulledBeforeFlush = await registry.metadata.db('tags').whereNotNull('last_pulled_ms');
        assert.equal(pulledBeforeFlush.length, 0, 'a pull writes nothing by itself');
        await registry.pullTimes.flush();

        assert.equal((await admin(registry, ['retention', 'add', 'svc/app', 'v*', '--keep-last', '2', '--by', 'pull'])).code, 0);
        assert.equal((await admin(registry, ['retention', 'add', 'svc/pushed', 'v*', '--keep-last', '2'])).code, 0);
        const listed = await admin(registry, ['retention', 'list']);
        assert.match(listed.out, /svc\/app v\* keep-last 2 keep-days - by pull/);
        assert.match(listed.out, /svc\/pushed v\* keep-last 2 keep-days - by push/);
        const bad = await admin(registry, ['retention', 'add', 'svc/app', 'v*', '--keep-last', '1', '--by', 'fetch']);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--by takes push or pull/);

        const report = await retentionOf(registry.metadata).run();
        assert.deepEqual(report.tags.map((t) => `${t.repository}:${t.tag}`).sort(), ['svc/app:v2', 'svc/pushed:v0']);
        assert.deepEqual(await tagsOf(registry, 'svc/app'), ['v0', 'v1']);
        assert.deepEqual(await tagsOf(registry, 'svc/pushed'), ['v1', 'v2']);
      } finally {
        await registry.close();
      }
    });

    it('keeps the tags pulled within N days; a tag never pulled counts from its push', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        const images = ['a', 'b', 'c'].map((name) => makeImage(`days ${name}`, [Buffer.from(`days layer ${name}\n`.repeat(20))]));
        for (const [i, image] of images.entries()) assert.ok(await pushImage(registry.url, 'ops/tool', `t${i}`, image));
        // Ten days from now t0 is pulled by tag and t1 by digest; t2 is not pulled again.
        const later = new PullTimes(registry.metadata.db, silentLogger(), () => Date.now() + 10 * DAY_MS);
        later.pulled('ops/tool', { kind: 'tag', tag: 't0' });
        later.pulled('ops/tool', { kind: 'digest', digest: images[1]!.digest });
        await later.close();
        // An older pull noted afterwards never moves a pull time back.
        registry.pullTimes.pulled('ops/tool', { kind: 'tag', tag: 't0' });
        await registry.pullTimes.flush();

        const retention = retentionOf(registry.metadata);
        await retention.add({ repositoryPattern: 'ops/*', tagPattern: '*', keepLast: null, keepDays: 3, basis: 'pull' }, 'test');
        assert.equal((await retention.run({ dryRun: true })).tags.length, 0, 'everything was pushed or pulled within 3 days');
        const report = await retention.run({ nowMs: Date.now() + 12 * DAY_MS });
        assert.deepEqual(report.tags.map((t) => t.tag), ['t2']);
        assert.deepEqual(await tagsOf(registry, 'ops/tool'), ['t0', 't1']);
      } finally {
        await registry.close();
      }
    });
  });
}
