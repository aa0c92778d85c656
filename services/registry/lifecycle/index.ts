/**
 * Lifecycle of what the registry stores: online garbage collection (gc*.ts, with the push
 * side in push-guard.ts), tag rules (tag-rules.ts, rules-store.ts, tag-rule-guard.ts),
 * namespace quotas (quotas.ts), retention policies (retention.ts), and the admin commands
 * for all of them (cli.ts and the *-cli.ts it dispatches to). Garbage collection
 * deletes manifests, blob links and blob bytes nothing references once the grace period
 * (registry.gc.graceseconds) has passed since anything last touched them, while pushes and
 * pulls go on: candidates are found by query or storage sweep, and each one is re-checked
 * under its digest's lock in the transaction that deletes it. This file builds the pieces
 * from a registry configuration; docs/lifecycle.md is the admin's guide.
 */
import { SETTINGS, type RegistryConfig, type RegistryGcConfig } from '../../../shared/config/index.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { Registry } from '../../../shared/observability/metrics.js';
import type { KnexMetadataStore } from '../metadata/knex-store.js';
import type { BlobStore } from '../storage/blobs.js';
import type { StorageDriver } from '../storage/driver.js';
import { gcMetrics } from './gc-metrics.js';
import { GcStore } from './gc-store.js';
import { GarbageCollector } from './gc.js';
import { Retention } from './retention.js';
import { TagRuleStore } from './rules-store.js';

/** `config.gc`, or the documented defaults (hand-built configurations leave it out). */
export function gcSettings(config: RegistryConfig): RegistryGcConfig {
  return (
    config.gc ?? {
      graceSeconds: Number(SETTINGS.registry.gcGraceSeconds.default),
      intervalSeconds: Number(SETTINGS.registry.gcIntervalSeconds.default),
      deleteUntagged: Boolean(SETTINGS.registry.gcDeleteUntagged.default),
    }
  );
}

/** The collector over a registry's metadata and storage, as configured. */
export function createCollector(
  config: RegistryConfig,
  deps: { metadata: KnexMetadataStore; storage: StorageDriver; blobs: BlobStore; logger: Logger; metrics?: Registry; batchSize?: number },
): GarbageCollector {
  const { graceSeconds, deleteUntagged } = gcSettings(config);
  return new GarbageCollector(
    {
      metadata: deps.metadata,
      gc: new GcStore(deps.metadata.db),
      blobs: deps.blobs,
      storage: deps.storage,
      logger: deps.logger,
      metrics: deps.metrics ? gcMetrics(deps.metrics) : undefined,
    },
    { graceSeconds, deleteUntagged, batchSize: deps.batchSize },
  );
}

/** Retention policies over a registry's metadata. */
export function retentionOf(metadata: KnexMetadataStore): Retention {
  return new Retention(metadata.db, metadata, new TagRuleStore(metadata.db), new GcStore(metadata.db));
}
