/**
 * Garbage collection started over the admin API (lifecycle/gc-runs.ts): one run at a time,
 * the run under way shown until it ends, then its report kept as the last run and
 * recorded in the lifecycle audit log.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { DockyardError } from '../../shared/http/errors.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { GcRuns } from '../../services/registry/lifecycle/gc-runs.js';
import { digestsOnDisk, sha256, startLifecycleRegistry, uploadBlob } from './harness.js';

describe('garbage collection runs started over the admin API', () => {
  it('runs one at a time and keeps what the last run deleted', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    const runs = new GcRuns(() => registry.collector(), silentLogger(), registry.metadata.db);
    try {
      const stray = Buffer.from('collected over the admin API\n'.repeat(40));
      assert.equal(await uploadBlob(registry.url, 'team/api', stray), 201);
      const started = runs.start(false, 'api:admin');
      assert.deepEqual(runs.status().running, started);
      assert.throws(() => runs.start(true, 'api:other'), (err: unknown) => err instanceof DockyardError && err.code === 'CONFLICT');
      while (runs.status().running !== null) await sleep(20);
      const last = runs.status().last!;
      assert.equal(last.error, null);
      assert.equal(last.dryRun, false);
      assert.deepEqual(last.report?.counts, { manifests: 0, links: 1, blobs: 1 });
      assert.deepEqual(last.report?.blobs, [{ digest: sha256(stray), size: stray.length }]);
      assert.equal(last.report?.bytesFreed, stray.length);
      assert.equal((await digestsOnDisk(registry.blobRoot)).has(sha256(stray)), false);
      // A run is in the lifecycle audit log with what it did (a dry run changes nothing and is not).
      const audit = await registry.metadata.db('lifecycle_audit').where({ action: 'gc.run' }).select('actor', 'details');
      assert.deepEqual(audit.map((a: { actor: string; details: string }) => [a.actor, JSON.parse(a.details)]), [['api:admin', { manifests: 0, links: 1, blobs: 1, bytesFreed: stray.length }]]);
      // The next run may start now.
      runs.start(true, 'api:admin');
    } finally {
      await runs.stop();
      await registry.close();
    }
  });
});
