/**
 * `retention run` killed with SIGKILL at random moments while it removes tags leaves a
 * consistent registry: every remaining tag still pulls its manifest, nothing an immutability
 * rule protects and nothing the policy keeps is gone, and the next run finishes the work
 * (every tag removal is its own transaction that re-reads the tag, lifecycle/retention.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runKillable } from '../reliability/support/killable-run.js';
import { admin, makeImage, pushImage, startLifecycleRegistry, type LifecycleRegistry } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = 30;
const TAGS_PER_IMAGE = 8;
const KEEP = 5;
const KILLS = 4;

async function tagCount(registry: LifecycleRegistry): Promise<number> {
  const [row] = await registry.metadata.db('tags').count({ n: '*' });
  return Number(row!.n);
}

async function tagsOf(registry: LifecycleRegistry): Promise<string[]> {
  const body = (await (await fetch(`${registry.url}/v2/ci/app/tags/list?n=1000`)).json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}

/** Every tag resolves to a manifest that pulls. */
async function assertTagsPull(registry: LifecycleRegistry): Promise<void> {
  for (const tag of await tagsOf(registry)) {
    const response = await fetch(`${registry.url}/v2/ci/app/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(response.status, 200, `tag ${tag} no longer pulls`);
    await response.arrayBuffer();
  }
}

describe('retention run under SIGKILL', () => {
  it('keeps the registry consistent and protected tags in place at every kill, and a rerun finishes', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    try {
      const tags: string[] = [];
      for (let i = 0; i < IMAGES; i += 1) {
        const image = makeImage(`kill ${i}`, [Buffer.from(`kill layer ${i}\n`.repeat(10))]);
        for (let t = 0; t < TAGS_PER_IMAGE; t += 1) {
          const tag = `b${String(i * TAGS_PER_IMAGE + t).padStart(4, '0')}`;
          assert.ok(await pushImage(registry.url, 'ci/app', tag, image));
          tags.push(tag);
        }
      }
      // Pushed in order, so the newest KEEP are the last KEEP; every 7th is immutable.
      const kept = tags.slice(-KEEP);
      const immutable = tags.filter((_, i) => i % 7 === 0);
      const expected = [...new Set([...kept, ...immutable])].sort();
      for (const tag of immutable) assert.equal((await admin(registry, ['rules', 'add', 'immutable', 'ci/app', tag])).code, 0);
      assert.equal((await admin(registry, ['retention', 'add', 'ci/**', 'b*', '--keep-last', String(KEEP)])).code, 0);

      const env = {
        DOCKYARD_DATA_DIR: registry.dir,
        REGISTRY_DATABASE_URL: `sqlite:${join(registry.dir, 'registry.sqlite')}`,
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: registry.blobRoot,
      };
      const retentionRun = () => runKillable(process.execPath, ['--import', 'tsx', 'services/registry/lifecycle/cli.ts', 'retention', 'run'], { cwd: ROOT, env });

      let before = await tagCount(registry);
      let killedMidway = 0;
      for (let kill = 0; kill < KILLS; kill += 1) {
        const run = retentionRun();
        let finished = false;
        void run.done.then(() => (finished = true));
        // Kill once this run has removed something, after a random further moment.
        while (!finished && (await tagCount(registry)) >= before) await sleep(5);
        await sleep(Math.random() * 40);
        run.kill();
        const result = await run.done;
        if (result.signal === 'SIGKILL') killedMidway += 1;
        const now = await tagCount(registry);
        assert.ok(now < before || finished, `run ${kill} removed nothing: ${result.stderr}`);
        before = now;
        const remaining = await tagsOf(registry);
        for (const tag of expected) assert.ok(remaining.includes(tag), `protected or kept tag ${tag} was removed`);
        await assertTagsPull(registry);
        if (finished && result.signal !== 'SIGKILL') break;
      }
      assert.ok(killedMidway > 0, 'at least one run was killed while it was removing tags');

      const final = await retentionRun().done;
      assert.equal(final.code, 0, final.stderr);
      assert.deepEqual(await tagsOf(registry), expected);
      await assertTagsPull(registry);
      // Manifests that lost their last tag went with it: one manifest per image still tagged.
      const [manifests] = await registry.metadata.db('manifests').count({ n: '*' });
      const stillTagged: Array<{ digest: string }> = await registry.metadata.db('tags').distinct('digest');
      assert.equal(Number(manifests!.n), stillTagged.length);
    } finally {
      await registry.close();
    }
  });
});
