/**
 * The push side of online garbage collection. Every path that makes a digest referenced
 * again (upload completion, mount, HEAD before a skipped upload, manifest PUT) first
 * pushes the digest's review back by the grace period; one that puts bytes in place (upload
 * completion, manifest PUT) also waits until no collector is moving them out (a condemned
 * digest, gc-condemned.ts); and every transaction that adds a reference takes the digest's
 * lock and re-checks that what it references is still there, and not condemned, while
 * holding it. The collector deletes or condemns only under the
 * same lock after its own re-check, so of two racing transactions one always sees the
 * other's committed result
 * (docs/architecture.md, "Online garbage collection", has the full argument).
 */
import type { Knex } from 'knex';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import { mayBeAbsent, type ParsedManifest } from '../manifests.js';
import { verifyReferences } from '../manifests/references.js';
import type { MetadataStore, Tx } from '../metadata/store.js';
import type { BlobStore } from '../storage/blobs.js';
import type { GcStore } from './gc-store.js';
import type { QuotaGuard } from './quotas.js';

/** Push-path protection against the collector; one per app. */
export class PushGuard {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly gc: GcStore,
    private readonly blobs: BlobStore,
    private readonly quotas: QuotaGuard,
    private readonly graceMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  private reviewAfter(): number {
    return this.clock() + this.graceMs;
  }

  /**
   * Keeps the digests out of the collector's reach for the grace period: called on a HEAD
   * that finds a blob (the client will reference it without uploading). Not synced: a power
   * cut loses at most a postponement.
   */
  async touch(digests: readonly string[]): Promise<void> {
    await this.gc.touch(this.gc.db, digests, this.reviewAfter());
  }

  /**
   * Before an upload's bytes move into place: touches the digest, then waits until no
   * collector is moving it out, so the bytes put in place afterwards stay there.
   */
  async beforeBlobPlaced(digest: string): Promise<void> {
    await this.touch([digest]);
    await this.awaitCollectors([digest]);
  }

  /** Waits until no collector is moving any of the digests out (gc-condemned.ts); 503 when a mark outlives the wait. */
  private async awaitCollectors(digests: readonly string[]): Promise<void> {
    if (!(await this.gc.condemned.awaitNone(digests, this.clock))) throw collectorBusy('this content');
  }

  /** Refuses an upload of known size that cannot fit its namespace's quota, before its bytes are read. */
  precheckQuota(repository: string, digest: string, size: number): Promise<void> {
    return this.quotas.precheck(repository, digest, size);
  }

  /**
   * Links a blob whose bytes were just stored or found (DENIED when that takes the
   * namespace over its hard quota), then checks the bytes are still
   * there. Once the link is committed the collector cannot take the bytes (its re-check
   * under the lock sees the link); if they vanished before that, the link is dangling and
   * is removed again (unless bytes came back meanwhile). False means the caller must not
   * report the blob as stored. `inTransaction` runs in the linking transaction (the
   * notification outbox writes the upload's or mount's event there).
   */
  async linkBlob(repository: string, digest: string, size: number, inTransaction?: (tx: Tx) => Promise<void>): Promise<boolean> {
    const parsed = parseDigest(digest);
    const linked = await this.metadata.transaction(async (tx) => {
      await this.gc.lockDigests(asKnex(tx), [digest]);
      // A collector is moving the bytes out: they are as good as gone.
      if ((await this.gc.condemned.condemnedAmong(asKnex(tx), [digest], this.clock())).size > 0) return false;
      await this.gc.touch(asKnex(tx), [digest], this.reviewAfter());
      await this.quotas.checkAdd(asKnex(tx), repository, digest, size);
      await this.metadata.linkBlob(repository, digest, size, tx);
      await inTransaction?.(tx);
      return true;
    });
    if (!linked) return false;
    if ((await this.blobs.stat(parsed)) !== null) return true;
    await this.metadata.transaction(async (tx) => {
      await this.gc.lockDigests(asKnex(tx), [digest]);
      if ((await this.blobs.stat(parsed)) === null) await this.metadata.unlinkBlob(repository, digest, tx);
    });
    return false;
  }

  /** Before a manifest PUT stores its bytes: waits until no collector is moving them or what they reference. */
  async beforeManifestStored(digest: string, manifest: ParsedManifest): Promise<void> {
    await this.awaitCollectors(guardedDigests(digest, manifest).digests);
  }

  /**
   * Inside the manifest PUT's transaction, before its rows are written: locks the manifest's
   * digest and everything it references, refuses what a collector is moving out (503 for the
   * manifest's own bytes, to be retried; MANIFEST_BLOB_UNKNOWN for a reference), postpones
   * their review, re-verifies the references
   * (links, children, and that linked bytes exist), checks the namespace's quota for the
   * manifest's own bytes, and restores those bytes if
   * the collector took them after the PUT stored them.
   */
  async guardManifest(tx: Tx, repository: string, digest: string, manifest: ParsedManifest, bytes: Buffer): Promise<void> {
    const trx = asKnex(tx);
    const { stored, digests } = guardedDigests(digest, manifest);
    await this.gc.lockDigests(trx, digests);
    const condemned = await this.gc.condemned.condemnedAmong(trx, digests, this.clock());
    if (condemned.has(digest)) {
      throw collectorBusy('this manifest\'s earlier copy');
    }
    const [taken] = condemned;
    if (taken !== undefined) throw fail('MANIFEST_BLOB_UNKNOWN', `${taken} is being garbage-collected`, { digest: taken });
    await this.gc.touch(trx, digests, this.reviewAfter());
    await verifyReferences(this.metadata, repository, manifest, tx);
    for (const descriptor of stored) {
      if ((await this.blobs.stat(descriptor.digest)) === null) {
        throw fail('MANIFEST_BLOB_UNKNOWN', `${descriptor.digest.value} is not stored in this registry`, { digest: descriptor.digest.value });
      }
    }
    await this.quotas.checkAdd(trx, repository, digest, bytes.length);
    const own = parseDigest(digest);
    if ((await this.blobs.stat(own)) === null) await this.blobs.putBytes(bytes, own.algorithm);
  }
}

/** 503 for content a collector is moving out right now (a stalled one, or a manifest's own bytes): retry shortly. */
function collectorBusy(what: string): DockyardError {
  return new DockyardError('UNAVAILABLE', `garbage collection is removing ${what} right now; retry shortly`, { headers: { 'Retry-After': '1' } });
}

/** A manifest's own digest and everything it references; `stored`: the references whose bytes must be here. */
function guardedDigests(digest: string, manifest: ParsedManifest) {
  const stored = [...(manifest.config ? [manifest.config] : []), ...manifest.layers].filter((d) => !mayBeAbsent(d));
  return { stored, digests: [digest, ...stored.map((d) => d.digest.value), ...manifest.manifests.map((d) => d.digest.value)] };
}

/** The knex transaction behind the metadata store's opaque handle (both are the same knex store). */
export function asKnex(tx: Tx): Knex.Transaction {
  return tx as Knex.Transaction;
}

/** A blob upload whose bytes the collector took before they were linked: the client uploads again. */
export function collectedDuringUpload(digest: string) {
  return fail('BLOB_UPLOAD_INVALID', 'the blob was garbage-collected while this upload completed; upload it again', { digest });
}
