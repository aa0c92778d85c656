/**
 * Content-addressed blob bytes on top of a StorageDriver. A blob is stored once under its
 * digest (storage/paths.ts) whatever repository pushed it; which repositories may see it
 * is the metadata store's business, not this module's.
 */
import { createHash } from 'node:crypto';
import { fail } from '../../../shared/http/errors.js';
import type { Digest, DigestAlgorithm } from '../../../shared/grammar/reference.js';
import { PathNotFoundError, type FileReader, type StorageDriver } from './driver.js';
import { blobDataPath, blobDirectory } from './paths.js';

/** Only blobs this small are cached: manifests, indexes and configs, never layers. */
const CACHE_ENTRY_MAX_BYTES = 64 * 1024;
const CACHE_TOTAL_MAX_BYTES = 32 * 1024 * 1024;
/**
 * getBytes loads a whole blob into memory; above this size the caller has confused a
 * layer with a manifest, which is a bug to surface rather than an allocation to attempt.
 */
const GET_BYTES_MAX = 16 * 1024 * 1024;

/** Least-recently-used byte cache with a total size bound (Map keeps insertion order). */
class ByteCache {
  private readonly entries = new Map<string, Buffer>();
  private totalBytes = 0;

  constructor(
    private readonly entryMaxBytes: number,
    private readonly totalMaxBytes: number,
  ) {}

  get(key: string): Buffer | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.entryMaxBytes) return;
    this.delete(key);
    this.entries.set(key, value);
    this.totalBytes += value.length;
    for (const [oldest, bytes] of this.entries) {
      if (this.totalBytes <= this.totalMaxBytes) break;
      this.entries.delete(oldest);
      this.totalBytes -= bytes.length;
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.totalBytes -= value.length;
  }
}

/** Builds the digest of `bytes` under `algorithm`. */
export function digestOf(bytes: Buffer, algorithm: DigestAlgorithm): Digest {
  const encoded = createHash(algorithm).update(bytes).digest('hex');
  return { algorithm, encoded, value: `${algorithm}:${encoded}` };
}

/** Reads and writes blobs by digest; the HTTP layer's only door to blob bytes. */
export class BlobStore {
  private readonly cache = new ByteCache(CACHE_ENTRY_MAX_BYTES, CACHE_TOTAL_MAX_BYTES);

  constructor(private readonly driver: StorageDriver) {}

  /** Size of the blob, or null when it is not stored. */
  async stat(digest: Digest): Promise<{ size: number } | null> {
    try {
      const info = await this.driver.stat(blobDataPath(digest));
      return { size: info.size };
    } catch (err) {
      if (err instanceof PathNotFoundError) return null;
      throw err;
    }
  }

  /** Opens the blob's bytes for positional reads (the caller closes the reader). */
  async open(digest: Digest): Promise<FileReader> {
    try {
      return await this.driver.openReader(blobDataPath(digest));
    } catch (err) {
      if (err instanceof PathNotFoundError) throw fail('BLOB_UNKNOWN', 'blob unknown to registry', { digest: digest.value });
      throw err;
    }
  }

  /** Where a client may fetch the blob directly instead of through the registry, if the store offers that. */
  async redirectUrl(digest: Digest): Promise<string | null> {
    return this.driver.urlFor ? this.driver.urlFor(blobDataPath(digest)) : null;
  }

  /** Whole content of a small blob (manifests); throws fail('BLOB_UNKNOWN') if absent. */
  async getBytes(digest: Digest): Promise<Buffer> {
    const cached = this.cache.get(digest.value);
    // A copy, so no caller can alter what later callers receive.
    if (cached) return Buffer.from(cached);
    const size = (await this.stat(digest))?.size;
    if (size === undefined) throw fail('BLOB_UNKNOWN', 'blob unknown to registry', { digest: digest.value });
    if (size > GET_BYTES_MAX) throw new RangeError(`blob ${digest.value} is ${size} bytes, too large to load whole`);
    let bytes: Buffer;
    try {
      bytes = await this.driver.getContent(blobDataPath(digest));
    } catch (err) {
      if (err instanceof PathNotFoundError) throw fail('BLOB_UNKNOWN', 'blob unknown to registry', { digest: digest.value });
      throw err;
    }
    this.cache.set(digest.value, Buffer.from(bytes));
    return bytes;
  }

  /** Stores bytes content-addressed under their digest of `algorithm` (atomic, idempotent). */
  async putBytes(bytes: Buffer, algorithm: DigestAlgorithm): Promise<Digest> {
    const digest = digestOf(bytes, algorithm);
    const existing = await this.stat(digest);
    // Same digest, same bytes: an existing blob of the right size needs no rewrite.
    if (existing?.size !== bytes.length) await this.driver.putContent(blobDataPath(digest), bytes);
    this.cache.set(digest.value, Buffer.from(bytes));
    return digest;
  }

  /** True when this store can move a blob out of its place cheaply (moveOut). */
  get canMoveOut(): boolean {
    return this.driver.rename !== undefined;
  }

  /**
   * Moves the blob's directory to `path` with the driver's cheap rename (only where
   * canMoveOut): the blob is gone from its digest's place as after delete(); false if absent.
   */
  async moveOut(digest: Digest, path: string): Promise<boolean> {
    if (!this.driver.rename) throw new Error(`${this.driver.name} storage cannot rename`);
    this.cache.delete(digest.value);
    try {
      await this.driver.rename(blobDirectory(digest), path);
      return true;
    } catch (err) {
      if (err instanceof PathNotFoundError) return false;
      throw err;
    }
  }

  /** Puts a directory moveOut moved back in the digest's place; false when the place is taken or `path` is gone. */
  async moveBack(path: string, digest: Digest): Promise<boolean> {
    if (!this.driver.rename) throw new Error(`${this.driver.name} storage cannot rename`);
    if ((await this.stat(digest)) !== null) return false;
    try {
      await this.driver.rename(path, blobDirectory(digest));
      return true;
    } catch (err) {
      // Absent source, or the place filled meanwhile (a push of the same bytes): nothing to put back.
      if (err instanceof PathNotFoundError || (await this.stat(digest)) !== null) return false;
      throw err;
    }
  }

  /** Removes the content; false if absent. */
  async delete(digest: Digest): Promise<boolean> {
    this.cache.delete(digest.value);
    try {
      await this.driver.delete(blobDirectory(digest));
      return true;
    } catch (err) {
      if (err instanceof PathNotFoundError) return false;
      throw err;
    }
  }
}
