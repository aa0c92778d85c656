/**
 * The filesystem driver's append writer and the write helpers it shares with the driver:
 * whole-buffer and vectored writes that resume after short writes, and directory fsync.
 */
import { constants as fsConstants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileWriter } from '../driver.js';

/** Makes a directory's entries (a new or renamed file) durable. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes every byte of `chunk`, resuming after short writes. */
export async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.length - written);
    written += bytesWritten;
  }
}

/** Most buffers one writev takes on Linux (IOV_MAX); longer lists go in several calls. */
const IOV_MAX = 1024;

/** The buffers left after the first `written` bytes of `chunks` went out. */
function remainingAfter(chunks: readonly Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = written;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}

/** Appends every byte of `chunks` through writev, resuming after short writes. */
async function writevAll(handle: FileHandle, chunks: readonly Buffer[]): Promise<void> {
  let pending = chunks.filter((chunk) => chunk.length > 0);
  while (pending.length > 0) {
    const batch = pending.length > IOV_MAX ? pending.slice(0, IOV_MAX) : pending;
    const { bytesWritten } = await handle.writev(batch);
    pending = remainingAfter(pending, bytesWritten);
  }
}

/**
 * Every this many bytes written, a writer starts an fdatasync in the background, so that
 * commit() finds little left to flush instead of a whole layer of dirty pages.
 */
const BACKGROUND_SYNC_BYTES = 16 * 1024 * 1024;

/**
 * Appends through one O_APPEND handle; commit() fdatasyncs the file and fsyncs its
 * directory. While writing, earlier bytes are already being flushed in the background.
 */
export class FilesystemFileWriter implements FileWriter {
  private closed = false;
  private unsyncedBytes = 0;
  /** The background fdatasync in flight, if any (never rejects). */
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly handle: FileHandle,
    private readonly fullPath: string,
    private currentSize: number,
  ) {}

  get size(): number {
    return this.currentSize;
  }

  async write(chunk: Buffer): Promise<void> {
    this.assertOpen();
    if (chunk.length === 0) return;
    await writeAll(this.handle, chunk);
    this.written(chunk.length);
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    this.assertOpen();
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    if (total === 0) return;
    await writevAll(this.handle, chunks);
    this.written(total);
  }

  private written(bytes: number): void {
    this.currentSize += bytes;
    this.unsyncedBytes += bytes;
    if (this.unsyncedBytes >= BACKGROUND_SYNC_BYTES && !this.syncing) this.startBackgroundSync();
  }

  /** Flushes what was written so far without waiting; commit() still does the sync that counts. */
  private startBackgroundSync(): void {
    this.unsyncedBytes = 0;
    this.syncing = this.handle.datasync().then(
      () => {
        this.syncing = null;
      },
      () => {
        // Only an optimisation: commit() syncs again and reports any real failure.
        this.syncing = null;
      },
    );
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(size) || size < 0 || size > this.currentSize) {
      throw new RangeError(`cannot truncate to ${size} bytes (size ${this.currentSize})`);
    }
    await this.handle.truncate(size);
    this.currentSize = size;
  }

  async commit(options: { name?: boolean } = {}): Promise<void> {
    this.assertOpen();
    this.closed = true;
    try {
      if (this.syncing) await this.syncing;
      // fdatasync: the size is the only metadata a reader needs, and it is included.
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
    // The file may be new: its directory entry is durable only once the directory is synced.
    if (options.name ?? true) await fsyncDirectory(dirname(this.fullPath));
  }

  async close(): Promise<void> {
    await this.closeHandle(true);
  }

  /** A file is appendable as it is: suspending is closing. */
  suspend(): Promise<void> {
    return this.close();
  }

  private async closeHandle(flushFirst: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (flushFirst && this.unsyncedBytes > 0 && !this.syncing) this.startBackgroundSync();
    const syncing = this.syncing;
    if (!syncing) {
      await this.handle.close();
      return;
    }
    // A chunk of a chunked upload: its bytes start flushing now, so the final commit has
    // less to wait for, but this request does not wait for the disk.
    void syncing.then(() => this.handle.close()).catch(() => undefined);
  }

  async cancel(): Promise<void> {
    await this.closeHandle(false);
    await rm(this.fullPath, { force: true });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('writer is closed');
  }
}
