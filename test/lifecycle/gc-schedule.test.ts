/**
 * The background schedule: a collector started by scheduleGc runs by itself, records its
 * metrics, and stop() ends it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { silentLogger } from '../../shared/observability/logger.js';
import { createMetricsRegistry } from '../../shared/observability/metrics.js';
import { scheduleGc } from '../../services/registry/lifecycle/gc-schedule.js';
import { digestsOnDisk, sha256, startLifecycleRegistry, uploadBlob } from './harness.js';

describe('background garbage collection', () => {
  it('collects on its schedule and reports candidates, deletions, bytes freed and duration', async () => {
    const registry = await startLifecycleRegistry('sqlite', 0);
    const metrics = createMetricsRegistry('registry', { processMetrics: false });
    const schedule = scheduleGc(registry.collector({ metrics }), 1, silentLogger());
    try {
      const stray = Buffer.from('collected in the background\n'.repeat(40));
      assert.equal(await uploadBlob(registry.url, 'team/bg', stray), 201);
      // Until a run that deleted it has completed.
      let text = '';
      for (;;) {
        text = await metrics.metrics();
        if (!(await digestsOnDisk(registry.blobRoot)).has(sha256(stray)) && /registry_gc_run_duration_seconds_count\{service="registry"\} [1-9]/.test(text)) break;
        await sleep(50);
      }
      assert.match(text, new RegExp(`registry_gc_bytes_freed_total\\{service="registry"\\} ${stray.length}`));
      assert.match(text, /registry_gc_deleted_total\{kind="blob",service="registry"\} 1/);
      assert.match(text, /registry_gc_deleted_total\{kind="link",service="registry"\} 1/);
      assert.match(text, /registry_gc_candidates_total\{kind="link",service="registry"\} [1-9]/);
    } finally {
      await schedule.stop();
      await registry.close();
    }
  });
});
