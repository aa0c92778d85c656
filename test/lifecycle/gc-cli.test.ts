/**
 * `npm run admin -- gc run [--dry-run] [--json]`: the auth CLI hands the command to the
 * registry's lifecycle CLI (a child process) which works on the registry's configuration,
 * here given by environment, with the grace period from REGISTRY_GC_GRACE_SECONDS.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, digestsOnDisk, imageDigests, makeImage, pushImage, sha256, startLifecycleRegistry, uploadBlob } from './harness.js';


describe('admin gc run', () => {
  it('prints what it would delete, then deletes it and reports bytes freed and time taken', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    try {
      const image = makeImage('kept', [Buffer.from('kept layer\n'.repeat(50))]);
      assert.ok(await pushImage(registry.url, 'team/app', 'v1', image));
      const stray = Buffer.from('stray\n'.repeat(70));
      assert.equal(await uploadBlob(registry.url, 'team/app', stray), 201);
      const env = { REGISTRY_GC_GRACE_SECONDS: '0' };

      const dry = await admin(registry, ['gc', 'run', '--dry-run', '--json'], env);
      assert.equal(dry.code, 0, dry.err);
      const report = JSON.parse(dry.out) as { dryRun: boolean; links: Array<{ digest: string }>; blobs: unknown[]; bytesFreed: number; durationMs: number };
      assert.equal(report.dryRun, true);
      assert.deepEqual(report.links.map((l) => l.digest), [sha256(stray)]);
      assert.equal(typeof report.durationMs, 'number');
      assert.ok((await digestsOnDisk(registry.blobRoot)).has(sha256(stray)));

      const run = await admin(registry, ['gc', 'run'], env);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, new RegExp(`deleted blob link team/app ${sha256(stray)}`));
      assert.match(run.out, new RegExp(`deleted blob ${sha256(stray)} \\(${stray.length} bytes\\)`));
      assert.match(run.out, new RegExp(`1 blob\\(s\\) deleted; ${stray.length} bytes freed in \\d+\\.\\d{3} s`));
      // Progress goes to stderr (plain lines off a terminal), never into the report on stdout.
      assert.match(run.err, /^garbage collection: 2 item\(s\) deleted in \d+\.\d s$/m);
      assert.match(dry.err, /^garbage collection \(dry run\): /m);
      assert.deepEqual([...(await digestsOnDisk(registry.blobRoot))].sort(), imageDigests(image).sort());

      const elsewhere = await admin(registry, ['rules', 'preset', 'release'], { REGISTRY_DATABASE_URL: `sqlite:${registry.dir}/nowhere/registry.sqlite` });
      assert.equal(elsewhere.code, 1);
      assert.match(elsewhere.err, /no registry database at .*nowhere\/registry\.sqlite/);

      const wrong = await admin(registry, ['gc', 'run', '--force'], env);
      assert.equal(wrong.code, 2);
      assert.match(wrong.err, /unknown option --force/);
    } finally {
      await registry.close();
    }
  });
});
