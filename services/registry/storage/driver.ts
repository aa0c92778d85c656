/**
 * StorageDriver: bytes at paths, nothing more. Drivers know nothing of digests,
 * repositories or uploads; storage/paths.ts builds every path they see.
 *
 * Paths are absolute, `/`-separated, made of `[A-Za-z0-9._-]` components, never `.` or
 * `..` (checkPath enforces it); anything else is InvalidPathError. Every driver passes
 * test/contracts/storage-driver.contract.ts.
 */
import type { Readable } from 'node:stream';

/** What stat() reports for a path. */
export interface FileInfo {
  path: string;
  size: number;
  modTime: Date;
  isDirectory: boolean;
}

/**
 * An append-only writer for one path (upload data). Bytes become durable only at
 * commit(); cancel() removes the file.
 */
export interface FileWriter {
  /** Bytes in the file so far, including what was there before an append-open. */
  readonly size: number;
  /** Appends a chunk; resolves when the driver has accepted it (backpressure). */
  write(chunk: Buffer): Promise<void>;
  /**
   * Appends several chunks in order, as one write where the driver can (one syscall
   * instead of one per network-sized piece, and no copy into a joined buffer).
   */
  writev(chunks: readonly Buffer[]): Promise<void>;
  /**
   * Flushes and makes the content durable (fsync), then closes. With `name: false` only
   * the bytes are made durable, not the file's name: for a caller that moves the file next,
   * since move() makes the new name durable.
   */
  commit(options?: { name?: boolean }): Promise<void>;
  /** Closes without the durability guarantee; the content stays for a later append. */
  close(): Promise<void>;
  /**
   * Ends this writer so that a later `writer(path, true)` continues it, without promising
   * that the bytes are readable before a writer commits or closes: stat() reports the size,
   * but getContent/reader/openReader/move may not see them yet. An upload's PATCH ends this
   * way. Local drivers simply close; an object store keeps its multipart upload open (and
   * the tail below the minimum part size in a small side object) instead of assembling the
   * object on every request.
   */
  suspend(): Promise<void>;
  /** Closes and deletes the file. */
  cancel(): Promise<void>;
  /**
   * Cuts the file back to `size` bytes (at most the current size), so a request that
   * failed halfway can drop exactly its own bytes; later writes append after `size`.
   */
  truncate(size: number): Promise<void>;
}

/**
 * Positional reads of one object into the caller's buffers. Serving a large blob through
 * it reuses a few buffers instead of allocating one per chunk as a stream does.
 */
export interface FileReader {
  /** Size of the object when it was opened. */
  readonly size: number;
  /** Reads up to `length` bytes at `position` into the start of `buffer`; 0 at the end. */
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  /** Releases the handle; reading after close fails. */
  close(): Promise<void>;
}

export interface StorageDriver {
  /** Short name for logs and metrics: `filesystem`, `memory`, `s3`. */
  readonly name: string;
  /** Whole content of a small object. PathNotFoundError if absent. */
  getContent(path: string): Promise<Buffer>;
  /**
   * Atomically replaces the object at path with data (durable when it resolves; with
   * `durable: false` still atomic, but a power cut may lose it: for scratch state such as
   * an upload session's record, which a client recreates after a 404).
   */
  putContent(path: string, data: Buffer, options?: { durable?: boolean }): Promise<void>;
  /** Stream of the object from offset, `length` bytes or to the end. PathNotFoundError if absent. */
  reader(path: string, offset?: number, length?: number): Promise<Readable>;
  /** Opens the object for positional reads. PathNotFoundError if absent. */
  openReader(path: string): Promise<FileReader>;
  /** Opens path for writing; append keeps existing bytes, otherwise it is truncated. */
  writer(path: string, append: boolean): Promise<FileWriter>;
  /** PathNotFoundError if absent. */
  stat(path: string): Promise<FileInfo>;
  /** Direct children (full paths) of a directory, sorted. PathNotFoundError if absent. */
  list(path: string): Promise<string[]>;
  /** Atomically moves an object, replacing the destination (the new name is durable when it resolves). */
  move(sourcePath: string, destPath: string): Promise<void>;
  /**
   * Removes an object or a whole directory tree. PathNotFoundError if absent. Not synced:
   * nothing acknowledged depends on a removal surviving a power cut (the metadata store
   * decides what is visible; leftovers are garbage).
   */
  delete(path: string): Promise<void>;
  /**
   * Optional, for stores where a rename is one cheap metadata operation (local file
   * systems): moves an object or a whole directory tree to `destPath` atomically, creating
   * its parent, without syncing (a power cut may undo it). `destPath` must not exist.
   * PathNotFoundError if the source is absent. Object stores leave it out: their "rename" is
   * a copy. The garbage collector moves doomed blobs aside with it (lifecycle/gc-trash.ts).
   */
  rename?(sourcePath: string, destPath: string): Promise<void>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  /**
   * For drivers that write through temporary objects: deletes those older than
   * `olderThanMs`, which only a crashed write leaves behind; returns how many.
   */
  sweepTemporaryFiles?(olderThanMs: number): Promise<number>;
  /**
   * Optional: makes the local file `source` the object at `path` without copying its bytes
   * (a hard link, then an atomic rename; the new name is durable when it resolves). False
   * when that is impossible here (another file system): the caller copies instead. Only
   * drivers that keep objects as local files have it; the import of a registry:2 store uses it.
   */
  linkFile?(source: string, path: string): Promise<boolean>;
  /**
   * A URL a client may fetch the object from directly (a presigned GET on an object store),
   * or null to have the registry serve it. Drivers without such URLs leave it out.
   */
  urlFor?(path: string): Promise<string | null>;
}

/** The path does not exist. */
export class PathNotFoundError extends Error {
  readonly code = 'PATH_NOT_FOUND';
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
    this.name = 'PathNotFoundError';
  }
}

/**
 * The storage backend did not answer or refused the request (an object store that is down,
 * wrong credentials, a missing bucket). Rendered as 503 UNAVAILABLE: the service, not the
 * request, is at fault.
 */
export class StorageUnavailableError extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** The path is not a valid storage path. */
export class InvalidPathError extends Error {
  readonly code = 'INVALID_PATH';
  constructor(readonly path: string) {
    super(`invalid storage path: ${path.slice(0, 200)}`);
    this.name = 'InvalidPathError';
  }
}

const COMPONENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Throws InvalidPathError unless path is `/a/b/c` with safe components. */
export function checkPath(path: string): string {
  if (path === '/') return path;
  if (!path.startsWith('/') || path.endsWith('/') || path.length > 4096) throw new InvalidPathError(path);
  for (const part of path.slice(1).split('/')) {
    if (!COMPONENT.test(part) || part === '.' || part === '..') throw new InvalidPathError(path);
  }
  return path;
}
