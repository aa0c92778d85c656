/**
 * Online garbage collection. A run has four phases, each in bounded batches with a yield
 * between them so pushes and pulls go on: (1) manifests nothing keeps (orphaned referrers
 * always, untagged unreferenced manifests when registry.gc.deleteuntagged is on), (2) blob
 * links no manifest of their repository references, (3) a sweep of storage queueing
 * unreferenced bytes, (4) the review queue: bytes whose review is due and that nothing
 * references. Every deletion happens in a transaction that takes the digest's lock,
 * re-checks the very condition that made it a candidate and only then deletes (or, for
 * bytes on a store with a trash, condemns them: they leave their place right after the
 * commit, and pushes treat them as gone meanwhile); phase 4 does this for a page of digests
 * per transaction (gc-bytes.ts), phases 1 and 2 for one at a time. Anything touched
 * within the grace period is left alone. See docs/lifecycle.md and docs/architecture.md.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Knex } from 'knex';
import { parseDigest } from '../../../shared/grammar/reference.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { MetadataStore } from '../metadata/store.js';
import type { BlobStore } from '../storage/blobs.js';
import type { StorageDriver } from '../storage/driver.js';
import { settleBounded, STORAGE_CONCURRENCY } from './bounded.js';
import type { GcMetrics } from './gc-metrics.js';
import type { GcStore, Horizon, LinkCandidate, ManifestCandidate } from './gc-store.js';
import { deletePageOfBytes } from './gc-bytes.js';
import { StorageSweep } from './gc-sweep.js';
import { BlobTrash } from './gc-trash.js';

/** What the collector is built from. */
export interface CollectorDeps {
  metadata: MetadataStore;
  gc: GcStore;
  blobs: BlobStore;
  storage: StorageDriver;
  logger: Logger;
  metrics?: GcMetrics;
  clock?: () => number;
}

/** How the collector decides. */
export interface CollectorOptions {
  graceSeconds: number;
  deleteUntagged: boolean;
  /** Rows per query and deletions between yields (default 100). */
  batchSize?: number;
}

/** What one run found and did. */
export interface GcReport {
  dryRun: boolean;
  manifests: Array<{ repository: string; digest: string }>;
  links: Array<{ repository: string; digest: string }>;
  blobs: Array<{ digest: string; size: number }>;
  /** Bytes deleted (dry run: bytes that would be). */
  bytesFreed: number;
  durationMs: number;
}

const DEFAULT_BATCH = 100;
/**
 * Trash batches emptied side by side beside the next pages' work: the device overlaps the
 * waits of removals in different directories (filesystem-remover.ts). Bounded, so at most
 * this many pages' blobs wait in the trash; fewer than the removal threads, so another
 * tree's removal in the same process (an import's scratch directory) need not queue behind
 * the collector. (A push's upload session is removed in place, not on a thread.)
 */
const EMPTYING_BATCHES = 6;
/** Deleting an index can make its children garbage; this many manifest passes at most per run. */
const MANIFEST_PASSES = 8;

/**
 * What a dry run has found so far, treated as deleted by the later passes and phases so the
 * dry run also lists what would become garbage once that is gone (the children of an
 * unreferenced index, the referrers of a deleted subject, the layers of a deleted image):
 * manifest ids, and links as `<repositoryId> <digest>`.
 */
interface Cascade {
  manifests: Set<number>;
  links: Set<string>;
}

/** Candidate digests per query in a dry run's cascade (SQLite's bound-variable limit). */
const CASCADE_CHUNK = 500;
/** Found manifest ids a query may exclude (SQLite binds at most 32,766 values per statement). */
const CASCADE_MAX_IDS = 20_000;

/** What a run deletes, phase by phase. */
export type GcKind = 'manifest' | 'link' | 'blob';

/** Runs garbage collection over one registry's metadata and storage. */
export class GarbageCollector {
  private readonly clock: () => number;
  private readonly batch: number;
  private signal: AbortSignal | undefined;
  private onBatch: ((kind: GcKind, deleted: number) => void) | undefined;

  constructor(
    private readonly deps: CollectorDeps,
    private readonly options: CollectorOptions,
  ) {
    // Whole milliseconds: the times it compares with are bigint columns (PostgreSQL refuses a fraction).
    const clock = deps.clock ?? Date.now;
    this.clock = () => Math.floor(clock());
    this.batch = options.batchSize ?? DEFAULT_BATCH;
  }

  private horizon(): Horizon {
    const nowMs = this.clock();
    return { nowMs, cutoff: new Date(nowMs - this.options.graceSeconds * 1000), deleteUntagged: this.options.deleteUntagged };
  }

  /**
   * One complete run; with `dryRun` it deletes nothing and reports what a run would delete:
   * what is garbage now and what would become garbage once that is gone (see Cascade).
   * An aborted `signal` ends the run at the next batch boundary (a stopping registry);
   * `onBatch` hears after every batch how many it deleted (a progress display).
   */
  async run(options: { dryRun?: boolean; signal?: AbortSignal; onBatch?: (kind: GcKind, deleted: number) => void } = {}): Promise<GcReport> {
    const dryRun = options.dryRun ?? false;
    this.signal = options.signal;
    this.onBatch = options.onBatch;
    const started = this.clock();
    const report: GcReport = { dryRun, manifests: [], links: [], blobs: [], bytesFreed: 0, durationMs: 0 };
    const gone: Cascade = { manifests: new Set(), links: new Set() };
    for (let pass = 0; pass < MANIFEST_PASSES; pass += 1) {
      const excluded = this.excludedIds(gone);
      if (excluded === null || (await this.collectManifests(report, dryRun, excluded, gone)) === 0) break;
    }
    await this.collectLinks(report, dryRun, this.excludedIds(gone) ?? [], gone);
    await this.collectBlobs(report, dryRun, gone);
    report.durationMs = this.clock() - started;
    this.deps.metrics?.duration.observe(report.durationMs / 1000);
    this.deps.logger.info(
      { dryRun, manifests: report.manifests.length, links: report.links.length, blobs: report.blobs.length, bytesFreed: report.bytesFreed, durationMs: report.durationMs },
      dryRun ? 'garbage collection dry run' : 'garbage collection run',
    );
    return report;
  }

  private counted(kind: GcKind, candidates: number, deleted: number): void {
    this.deps.metrics?.candidates.inc({ kind }, candidates);
    if (deleted > 0) this.deps.metrics?.deleted.inc({ kind }, deleted);
    this.onBatch?.(kind, deleted);
  }

  /**
   * The manifest ids a dry run found so far, for the next pass's queries to treat as
   * deleted; null when there are too many to bind (the dry run then lists no further
   * cascade, which it logs: it reports less than the real run would delete, never more).
   */
  private excludedIds(gone: Cascade): number[] | null {
    if (gone.manifests.size <= CASCADE_MAX_IDS) return [...gone.manifests];
    this.deps.logger.warn({ found: gone.manifests.size }, 'garbage collection dry run: too many manifests to follow the cascade further');
    return null;
  }

  /** Phase 1; returns how many manifests it deleted (dry run: found that no earlier pass did). */
  private collectManifests(report: GcReport, dryRun: boolean, excluded: readonly number[], gone: Cascade): Promise<number> {
    const { metadata, gc } = this.deps;
    return this.collectPages<ManifestCandidate>('manifest', dryRun, report.manifests, {
      page: (horizon, last) => gc.manifestCandidates(horizon, last?.id ?? 0, this.batch, excluded),
      found: (candidate) => gone.manifests.add(candidate.id),
      stillCollectable: (trx, horizon, candidate) => gc.manifestStillCollectable(trx, horizon, candidate.id),
      remove: (candidate, tx) => metadata.deleteManifest(candidate.repository, candidate.digest, tx, 'gc'),
    });
  }

  /** Phase 2. */
  private async collectLinks(report: GcReport, dryRun: boolean, excluded: readonly number[], gone: Cascade): Promise<void> {
    const { metadata, gc } = this.deps;
    await this.collectPages<LinkCandidate>('link', dryRun, report.links, {
      page: (horizon, last) => gc.linkCandidates(horizon, last, this.batch, excluded),
      found: (candidate) => gone.links.add(`${candidate.repositoryId} ${candidate.digest}`),
      stillCollectable: (trx, horizon, candidate) => gc.linkStillCollectable(trx, horizon, candidate.repositoryId, candidate.digest),
      remove: (candidate, tx) => metadata.unlinkBlob(candidate.repository, candidate.digest, tx),
    });
  }

  /**
   * Pages through candidates and deletes each in its own transaction: lock the digest
   * (skip it when busy), re-check with the same condition that found it, delete, and queue
   * the digest's bytes for review now. Returns how many it deleted.
   */
  private async collectPages<C extends { repository: string; digest: string }>(
    kind: 'manifest' | 'link',
    dryRun: boolean,
    out: Array<{ repository: string; digest: string }>,
    steps: {
      page(horizon: Horizon, last: C | null): Promise<C[]>;
      stillCollectable(trx: Knex.Transaction, horizon: Horizon, candidate: C): Promise<boolean>;
      remove(candidate: C, tx: Knex.Transaction): Promise<unknown>;
      /** A dry run found `candidate` (it is then treated as deleted). */
      found(candidate: C): unknown;
    },
  ): Promise<number> {
    const { metadata, gc } = this.deps;
    let last: C | null = null;
    let deleted = 0;
    while (!this.signal?.aborted) {
      const horizon = this.horizon();
      const page = await steps.page(horizon, last);
      if (page.length === 0) break;
      last = page[page.length - 1]!;
      let done = 0;
      for (const candidate of page) {
        const removed =
          dryRun ||
          (await metadata.transaction(async (tx) => {
            const trx = tx as Knex.Transaction;
            if (!(await gc.lockDigests(trx, [candidate.digest], { wait: false }))) return false;
            if (!(await steps.stillCollectable(trx, horizon, candidate))) return false;
            await steps.remove(candidate, trx);
            await gc.enqueue(trx, [candidate.digest], horizon.nowMs);
            return true;
          }));
        if (removed) {
          out.push({ repository: candidate.repository, digest: candidate.digest });
          if (dryRun) steps.found(candidate);
          done += 1;
        }
      }
      deleted += done;
      this.counted(kind, page.length, dryRun ? 0 : done);
      await yieldToEventLoop();
    }
    return deleted;
  }

  /** Phases 3 and 4. */
  private async collectBlobs(report: GcReport, dryRun: boolean, gone: Cascade): Promise<void> {
    const { gc, storage } = this.deps;
    const trash = BlobTrash.of(storage, this.deps.blobs);
    // Before the sweep, so what an interrupted run moved aside is swept and reviewed again.
    if (trash && !dryRun) {
      await trash.restore(this.deps.logger);
      // Marks a killed collector left would make pushes of their digests wait until they go stale.
      await gc.condemned.purgeStale(this.clock());
    }
    const pageDeps = { ...this.deps, trash, clock: this.clock };
    const sweep = new StorageSweep(storage, gc, this.options.graceSeconds * 1000);
    const nowMs = this.clock();
    const wouldDelete = new Map<string, number>();
    await sweep.run({
      queue: !dryRun,
      found: (orphan) => {
        if (dryRun && orphan.dueMs <= nowMs) wouldDelete.set(orphan.digest.value, orphan.size);
      },
      yieldEvery: () => yieldToEventLoop(),
      stopped: () => this.signal?.aborted === true,
    });
    let after: { reviewAfterMs: number; digest: string } | null = null;
    // Reviews due from now on wait for the next run, so a run ends even if deletions keep failing.
    const until = this.clock();
    const emptying: Array<Promise<void>> = [];
    while (!this.signal?.aborted) {
      const page = await gc.dueReviews(until, after, this.batch);
      if (page.length === 0) break;
      after = page[page.length - 1]!;
      let done = 0;
      if (dryRun) {
        const referenced = await gc.referencedAmong(gc.db, page.map((row) => row.digest));
        for (const { digest } of page) {
          if (referenced.has(digest)) continue;
          const size = (await this.deps.blobs.stat(parseDigest(digest)))?.size;
          if (size !== undefined) wouldDelete.set(digest, size);
        }
      } else {
        const { deleted, emptied } = await deletePageOfBytes(pageDeps, page.map((row) => row.digest), until);
        emptying.push(emptied);
        if (emptying.length > EMPTYING_BATCHES) await emptying.shift();
        for (const { digest, size } of deleted) {
          report.blobs.push({ digest, size });
          report.bytesFreed += size;
          this.deps.metrics?.bytesFreed.inc(size);
          done += 1;
        }
      }
      this.counted('blob', page.length, done);
      await yieldToEventLoop();
    }
    await Promise.all(emptying);
    if (dryRun) {
      for (const [digest, size] of await this.cascadedBytes(report, gone, nowMs)) wouldDelete.set(digest, size);
      for (const [digest, size] of wouldDelete) {
        report.blobs.push({ digest, size });
        report.bytesFreed += size;
      }
    }
  }

  /**
   * A dry run's cascade into bytes: the digests of the manifests and links it found, and the
   * blobs those manifests reference, that nothing else references and no review row protects.
   */
  private async cascadedBytes(report: GcReport, gone: Cascade, nowMs: number): Promise<Map<string, number>> {
    const { gc, blobs } = this.deps;
    const candidates = new Set([...report.manifests.map((m) => m.digest), ...report.links.map((l) => l.digest)]);
    const ids = [...gone.manifests];
    for (let start = 0; start < ids.length; start += CASCADE_CHUNK) for (const digest of await gc.blobsOf(ids.slice(start, start + CASCADE_CHUNK))) candidates.add(digest);
    const sorted = [...candidates].sort();
    const found = new Map<string, number>();
    for (let start = 0; start < sorted.length && !this.signal?.aborted; start += CASCADE_CHUNK) {
      const chunk = sorted.slice(start, start + CASCADE_CHUNK);
      const kept = await gc.keptAmong(chunk, gone, nowMs);
      const garbage = chunk.filter((digest) => !kept.has(digest));
      const sizes = await settleBounded(garbage, STORAGE_CONCURRENCY, (digest) => blobs.stat(parseDigest(digest)));
      sizes.forEach((result, index) => {
        if (result.status === 'fulfilled' && result.value) found.set(garbage[index]!, result.value.size);
      });
    }
    return found;
  }
}
