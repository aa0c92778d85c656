/**
 * `gc run` killed with SIGKILL in the middle of deleting leaves a consistent registry: each
 * kill lands after the collector has deleted some bytes (the test watches the disk), then
 * every live image still pulls with its bytes verified, every blob link and manifest the
 * database lists still has its bytes, and the next run resumes and finishes the job.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runKillable } from '../reliability/support/killable-run.js';
import { assertImagePulls, digestsOnDisk, imageDigests, makeImage, pushImage, sha256, startLifecycleRegistry, uploadBlob, type LifecycleRegistry } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ORPHANS = 1500;
const KILLS = 4;

/** Blob bytes on disk that no metadata knows (as a crash or a pre-GC registry leaves them). */
async function writeOrphans(blobRoot: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const bytes = randomBytes(64);
    const encoded = sha256(bytes).slice('sha256:'.length);
    const dir = join(blobRoot, 'blobs', 'sha256', encoded.slice(0, 2), encoded);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data'), bytes);
  }
}

/** Every blob link and every manifest the database lists has its bytes on disk. */
async function assertMetadataHasBytes(registry: LifecycleRegistry): Promise<void> {
  const onDisk = await digestsOnDisk(registry.blobRoot);
  const db = registry.metadata.db;
  for (const table of ['blob_links', 'manifests']) {
    const rows: Array<{ digest: string }> = await db(table).select('digest');
    for (const { digest } of rows) assert.ok(onDisk.has(digest), `${table} lists ${digest} but its bytes are gone`);
  }
}

describe('gc run under SIGKILL', () => {
  it('leaves a consistent registry at every kill and finishes on the next run', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    try {
      const shared = Buffer.from('shared layer\n'.repeat(100));
      const live = Array.from({ length: 4 }, (_, i) => makeImage(`live ${i}`, [shared, Buffer.from(`live layer ${i}\n`.repeat(80))]));
      for (const [i, image] of live.entries()) assert.ok(await pushImage(registry.url, 'team/app', `v${i}`, image));
      const doomed = makeImage('deleted', [shared, Buffer.from('deleted layer\n'.repeat(80))]);
      assert.ok(await pushImage(registry.url, 'team/app', 'old', doomed));
      assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/${doomed.digest}`, { method: 'DELETE' })).status, 202);
      for (let i = 0; i < 20; i += 1) assert.equal(await uploadBlob(registry.url, `team/stray${i % 3}`, Buffer.from(`stray ${i}\n`.repeat(30))), 201);
      await writeOrphans(registry.blobRoot, ORPHANS);

      const env = {
        DOCKYARD_DATA_DIR: registry.dir,
        REGISTRY_DATABASE_URL: `sqlite:${join(registry.dir, 'registry.sqlite')}`,
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: registry.blobRoot,
        REGISTRY_GC_GRACE_SECONDS: '0',
      };
      const gcRun = () => runKillable(process.execPath, ['--import', 'tsx', 'services/registry/lifecycle/cli.ts', 'gc', 'run'], { cwd: ROOT, env });

      let before = (await digestsOnDisk(registry.blobRoot)).size;
      let killedMidway = 0;
      for (let kill = 0; kill < KILLS; kill += 1) {
        const run = gcRun();
        let finished = false;
        void run.done.then(() => (finished = true));
        // Kill as soon as this run has deleted something: the kill then lands mid-collection.
        while (!finished && (await digestsOnDisk(registry.blobRoot)).size >= before) await sleep(5);
        run.kill();
        const result = await run.done;
        if (result.signal === 'SIGKILL') killedMidway += 1;
        const now = (await digestsOnDisk(registry.blobRoot)).size;
        assert.ok(now < before, `run ${kill} deleted nothing: ${result.stderr}`);
        before = now;
        for (const [i, image] of live.entries()) await assertImagePulls(registry.url, 'team/app', `v${i}`, image);
        await assertMetadataHasBytes(registry);
      }
      assert.ok(killedMidway > 0, 'at least one run was killed while it was deleting');

      const final = await gcRun().done;
      assert.equal(final.code, 0, final.stderr);
      assert.deepEqual([...(await digestsOnDisk(registry.blobRoot))].sort(), [...new Set(live.flatMap(imageDigests))].sort());
      // A kill between a page's moves into the trash and its emptying leaves entries there; the next run puts them back and collects them.
      assert.deepEqual(await readdir(join(registry.blobRoot, 'gc-trash')).catch(() => []), [], 'nothing left in the trash');
      for (const [i, image] of live.entries()) await assertImagePulls(registry.url, 'team/app', `v${i}`, image);
      await assertMetadataHasBytes(registry);
    } finally {
      await registry.close();
    }
  });
});
