/**
 * The collector's Prometheus series, registered on the registry's own metrics registry:
 * what it found, what it deleted, the bytes it gave back and how long a run took.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** What a collector run reports to metrics. */
export interface GcMetrics {
  candidates: Counter<'kind'>;
  deleted: Counter<'kind'>;
  bytesFreed: Counter;
  duration: Histogram;
}

function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The GC series of `registry` (created on first use). */
export function gcMetrics(registry: Registry): GcMetrics {
  return {
    candidates: once(registry, 'registry_gc_candidates_total', () =>
      new Counter({ name: 'registry_gc_candidates_total', help: 'Garbage found by the collector, by kind (manifest, link, blob).', labelNames: ['kind'], registers: [registry] }),
    ),
    deleted: once(registry, 'registry_gc_deleted_total', () =>
      new Counter({ name: 'registry_gc_deleted_total', help: 'Garbage deleted by the collector, by kind (manifest, link, blob).', labelNames: ['kind'], registers: [registry] }),
    ),
    bytesFreed: once(registry, 'registry_gc_bytes_freed_total', () =>
      new Counter({ name: 'registry_gc_bytes_freed_total', help: 'Blob bytes deleted from storage by the collector.', registers: [registry] }),
    ),
    duration: once(registry, 'registry_gc_run_duration_seconds', () =>
      new Histogram({
        name: 'registry_gc_run_duration_seconds',
        help: 'Duration of complete collector runs.',
        buckets: [0.01, 0.1, 1, 10, 60, 300, 1800, 7200],
        registers: [registry],
      }),
    ),
  };
}
