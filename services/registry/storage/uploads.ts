/**
 * Blob upload sessions (POST → PATCH* → PUT): bytes stream into /uploads/<id>/data, are
 * hashed as they arrive, and on completion are verified and moved into the
 * content-addressed place.
 *
 * Everything a second replica or a restarted process needs lives in storage: the session
 * (info.json) and its bytes (data, whose size IS the offset). Process memory holds only
 * an optimisation, the running sha256 of each session, keyed by id together with the
 * offset it covers; when it is missing or stale the data is re-read once at completion.
 *
 * Each request applies fully or not at all: a body that errors, ends short or lies about
 * its length has its own bytes cut off again, so the session stays at its last good offset.
 *
 * Commit order: fsync the data → verify digest and size → atomic move into /blobs (or drop
 * the upload when the blob already exists) → delete the session. A crash at any point
 * leaves either nothing visible or a complete, verified blob.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type DockyardError, fail } from '../../../shared/http/errors.js';
import { assertName, type Digest } from '../../../shared/grammar/reference.js';
import type { BlobStore } from './blobs.js';
import { PathNotFoundError, type FileWriter, type StorageDriver } from './driver.js';
import { blobDataPath, isUploadId, uploadDataPath, uploadDirectory, uploadInfoPath, uploadsRoot } from './paths.js';
import { clusterMutex, type KeyMutex } from '../../../shared/process/cluster-mutex.js';
import { KeyedMutex } from './mutex.js';
import { checkChunkOptions, rangeMismatch, streamChunk, type ChunkOptions } from './upload-chunk.js';

export type { ChunkOptions };

/** One upload session as the HTTP layer sees it. */
export interface UploadSession {
  id: string;
  repository: string;
  owner: string;
  offset: number;
  startedAt: Date;
}

/** Running hash of a session's bytes [0, offset). */
interface RunningHash {
  hash: Hash;
  offset: number;
}

/** Enough for every upload a busy replica has in flight; older entries fall back to a re-read. */
const MAX_RUNNING_HASHES = 4096;

function unknownUpload(id: string): DockyardError {
  return fail('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: id.slice(0, 100) });
}

function parseInfo(bytes: Buffer): { repository: string; owner: string; startedAt: Date } | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { repository, owner, startedAt } = value as Record<string, unknown>;
    if (typeof repository !== 'string' || typeof owner !== 'string' || typeof startedAt !== 'string') return null;
    const started = new Date(startedAt);
    return Number.isNaN(started.getTime()) ? null : { repository, owner, startedAt: started };
  } catch {
    return null;
  }
}

/** Starts, appends to, completes and cancels blob uploads; safe across cluster workers and restarts. */
export class UploadManager {
  private readonly hashes = new Map<string, RunningHash>();
  private readonly openIds = new Set<string>();
  private readonly locks = new KeyedMutex();

  /**
   * `workers` orders a session's writes across the processes of a cluster (the primary's
   * lock table, shared/process/cluster-mutex.ts) or, on PostgreSQL, across every replica
   * sharing the database (shared/db/advisory-mutex.ts): two processes could otherwise both find the same
   * size on disk and both append at it. Outside a cluster it adds nothing.
   */
  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly workers: KeyMutex = clusterMutex(),
  ) {}

  /** Runs a write of session `id` after every other one, in this process and across workers. */
  private exclusive<T>(id: string, task: () => Promise<T>): Promise<T> {
    return this.locks.run(id, () => this.workers.run(id, task));
  }

  /** Runs `task` under the session's cross-process lock if nobody holds it; false when held. */
  private async ifFree(id: string, task: () => Promise<boolean>): Promise<boolean> {
    if (!this.workers.tryRun) return this.workers.run(id, task);
    const outcome = await this.workers.tryRun(id, task);
    return outcome.ran && outcome.value;
  }

  /** Number of sessions this process has open (for a metrics gauge). */
  get activeCount(): number {
    return this.openIds.size;
  }

  /** Creates a session owned by `owner` (the authenticated subject; '' for anonymous). */
  async start(repository: string, owner: string): Promise<UploadSession> {
    assertName(repository);
    const id = randomUUID();
    const startedAt = new Date();
    const info = { repository, owner, startedAt: startedAt.toISOString() };
    // Not synced: a session lost to a power cut answers 404 and the client starts over;
    // nothing in it was acknowledged as stored.
    await this.driver.putContent(uploadInfoPath(id), Buffer.from(JSON.stringify(info)), { durable: false });
    this.rememberHash(id, { hash: createHash('sha256'), offset: 0 });
    this.openIds.add(id);
    return { id, repository, owner, offset: 0, startedAt };
  }

  /** BLOB_UPLOAD_UNKNOWN when the id is malformed, absent, or belongs to another repository or owner. */
  async get(repository: string, id: string, owner: string): Promise<UploadSession> {
    if (!isUploadId(id)) throw unknownUpload(id);
    let info: ReturnType<typeof parseInfo>;
    try {
      info = parseInfo(await this.driver.getContent(uploadInfoPath(id)));
    } catch (err) {
      if (err instanceof PathNotFoundError) {
        this.forget(id);
        throw unknownUpload(id);
      }
      throw err;
    }
    // Same answer for "absent" and "not yours": a session id never confirms it exists.
    if (!info || info.repository !== repository || info.owner !== owner) throw unknownUpload(id);
    return { id, repository, owner, offset: await this.dataSize(id), startedAt: info.startedAt };
  }

  /**
   * Appends a request body. `start` (from Content-Range) must equal the current offset, else
   * DockyardError RANGE_INVALID status 416 with header `Range: 0-<offset-1>` (`0-0` when the
   * offset is 0, as CNCF distribution does) and `Docker-Upload-UUID`. `length` (Content-Length,
   * or end-start+1 from Content-Range) when given must match the bytes received, else SIZE_INVALID
   * (and the partial bytes of THIS request are discarded so the session stays consistent).
   */
  async append(repository: string, id: string, owner: string, body: Readable, opts: ChunkOptions = {}): Promise<UploadSession> {
    checkChunkOptions(opts);
    return this.exclusive(id, async () => {
      const session = await this.get(repository, id, owner);
      const offset = await this.appendLocked(session, body, opts, false);
      this.openIds.add(id);
      return { ...session, offset };
    });
  }

  /**
   * Appends the optional final chunk, verifies the digest (sha256 or sha512) and size, then moves
   * the data into the content-addressed place and deletes the session. DIGEST_INVALID on mismatch
   * (the session is removed). Returns the digest and size. Linking into the repository is the caller's job.
   */
  async complete(
    repository: string,
    id: string,
    owner: string,
    digest: Digest,
    finalChunk?: Readable,
    opts: ChunkOptions = {},
  ): Promise<{ digest: Digest; size: number }> {
    checkChunkOptions(opts);
    return this.exclusive(id, async () => {
      const session = await this.get(repository, id, owner);
      const size = await this.appendLocked(session, finalChunk, opts, true);
      const computed = await this.digestOfData(id, digest, size);
      if (computed !== digest.encoded) {
        await this.removeSession(id);
        throw fail('DIGEST_INVALID', 'provided digest did not match uploaded content', { digest: digest.value });
      }
      if ((await this.blobs.stat(digest)) === null) {
        await this.driver.move(uploadDataPath(id), blobDataPath(digest));
      }
      await this.removeSession(id);
      return { digest, size };
    });
  }

  /** Deletes the session and its bytes after checking it belongs to repository and owner. */
  async cancel(repository: string, id: string, owner: string): Promise<void> {
    await this.exclusive(id, async () => {
      await this.get(repository, id, owner);
      await this.removeSession(id);
    });
  }

  /** Removes sessions started more than maxAgeMs ago; returns how many. */
  async purgeOlderThan(maxAgeMs: number): Promise<number> {
    const cutoff = Date.now() - maxAgeMs;
    let entries: string[];
    try {
      entries = await this.driver.list(uploadsRoot());
    } catch (err) {
      if (err instanceof PathNotFoundError) return 0;
      throw err;
    }
    const present = new Set<string>();
    let purged = 0;
    for (const entry of entries) {
      const id = entry.slice(entry.lastIndexOf('/') + 1);
      if (!isUploadId(id)) continue;
      present.add(id);
      // Busy here means a request is streaming into it right now.
      if (this.locks.isBusy(id)) continue;
      if ((await this.startedAt(id)) > cutoff) continue;
      // Another replica may be streaming into it: only a session nobody holds is removed,
      // re-checked under its lock (it may have been completed meanwhile).
      const removed = await this.locks.run(id, () => this.ifFree(id, async () => {
        if ((await this.startedAt(id)) > cutoff) return false;
        await this.removeSession(id);
        return true;
      }));
      if (!removed) continue;
      present.delete(id);
      purged += 1;
    }
    // Sessions finished or purged by another replica are no longer open here either.
    for (const id of this.openIds) if (!present.has(id)) this.forget(id);
    return purged;
  }

  /**
   * Streams `body` onto the session's data and returns the new offset. With `durable`
   * the data is fsynced (completion); otherwise it is suspended for the next PATCH.
   */
  private async appendLocked(session: UploadSession, body: Readable | undefined, opts: ChunkOptions, durable: boolean): Promise<number> {
    const writer = await this.driver.writer(uploadDataPath(session.id), true);
    // The writer's size, not session.offset: another replica may have appended since.
    const startSize = writer.size;
    if (opts.start !== undefined && opts.start !== startSize) {
      await writer.suspend();
      throw rangeMismatch(session.id, startSize, opts.start);
    }
    const known = this.hashes.get(session.id);
    // Hash into a copy: a failed request must leave the running hash at the old offset.
    const hash = known?.offset === startSize ? known.hash.copy() : startSize === 0 ? createHash('sha256') : null;
    try {
      if (body) await streamChunk(writer, body, hash, opts.length);
      else if (opts.length !== undefined && opts.length !== 0) throw fail('SIZE_INVALID', `no request body, declared ${opts.length} bytes`);
      // The caller moves completed data into /blobs, and the move makes its name durable.
      if (durable) await writer.commit({ name: false });
      else await writer.suspend();
    } catch (err) {
      await this.rollBack(session.id, writer, startSize);
      throw err;
    }
    if (hash) this.rememberHash(session.id, { hash, offset: writer.size });
    else this.hashes.delete(session.id);
    return writer.size;
  }

  /** Cuts the data back to where this request started; the running hash is still valid for it. */
  private async rollBack(id: string, writer: FileWriter, size: number): Promise<void> {
    try {
      await writer.truncate(size);
    } catch {
      // The size on disk is now unknown to the running hash; completion will re-read.
      this.hashes.delete(id);
    }
    await writer.suspend().catch(() => undefined);
  }

  /** Encoded digest of the session's data: from the running hash when it covers all `size` bytes, else one re-read. */
  private async digestOfData(id: string, digest: Digest, size: number): Promise<string> {
    const known = this.hashes.get(id);
    if (digest.algorithm === 'sha256' && known?.offset === size) return known.hash.copy().digest('hex');
    const hash = createHash(digest.algorithm);
    let hashed = 0;
    for await (const chunk of await this.driver.reader(uploadDataPath(id))) {
      hash.update(chunk as Buffer);
      hashed += (chunk as Buffer).length;
    }
    // Bytes read must be the bytes committed; anything else means the data changed under us.
    if (hashed !== size) throw fail('BLOB_UPLOAD_INVALID', 'upload data changed during completion', { size, hashed });
    return hash.digest('hex');
  }

  private async dataSize(id: string): Promise<number> {
    try {
      return (await this.driver.stat(uploadDataPath(id))).size;
    } catch (err) {
      if (err instanceof PathNotFoundError) return 0;
      throw err;
    }
  }

  /** When a session started; sessions with unreadable metadata count as started at their directory's mtime. */
  private async startedAt(id: string): Promise<number> {
    try {
      const info = parseInfo(await this.driver.getContent(uploadInfoPath(id)));
      if (info) return info.startedAt.getTime();
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
    try {
      return (await this.driver.stat(uploadDirectory(id))).modTime.getTime();
    } catch (err) {
      if (err instanceof PathNotFoundError) return Number.POSITIVE_INFINITY;
      throw err;
    }
  }

  private async removeSession(id: string): Promise<void> {
    this.forget(id);
    try {
      await this.driver.delete(uploadDirectory(id));
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
  }

  private rememberHash(id: string, entry: RunningHash): void {
    this.hashes.delete(id);
    this.hashes.set(id, entry);
    if (this.hashes.size > MAX_RUNNING_HASHES) {
      const oldest = this.hashes.keys().next().value;
      if (oldest !== undefined) this.hashes.delete(oldest);
    }
  }

  private forget(id: string): void {
    this.hashes.delete(id);
    this.openIds.delete(id);
  }
}
