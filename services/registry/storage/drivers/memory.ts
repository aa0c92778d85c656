/**
 * StorageDriver in process memory, for tests and throwaway registries. It mirrors the
 * filesystem driver's semantics (explicit directories that outlive their files, a file in
 * the way of a directory is an error) so the contract suite holds for both unchanged.
 */
import { Readable } from 'node:stream';
import {
  checkPath,
  InvalidPathError,
  PathNotFoundError,
  type FileInfo,
  type FileReader,
  type FileWriter,
  type StorageDriver,
} from '../driver.js';

/** Appends are kept as separate chunks so a growing upload is not re-copied on every write. */
interface MemoryFile {
  chunks: Buffer[];
  size: number;
  modTime: Date;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}

function checkRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset: ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new RangeError(`invalid length: ${length}`);
  }
}

/** Chunks covering bytes [start, end) of a file, as views (no copy). */
function sliceChunks(chunks: readonly Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let position = 0;
  for (const chunk of chunks) {
    const chunkEnd = position + chunk.length;
    if (chunkEnd > start && position < end) {
      out.push(chunk.subarray(Math.max(0, start - position), Math.min(chunk.length, end - position)));
    }
    position = chunkEnd;
    if (position >= end) break;
  }
  return out;
}

/** Positional reads of a snapshot of the file's chunks (later writes append new chunks). */
class MemoryFileReader implements FileReader {
  private closed = false;
  private readonly chunks: readonly Buffer[];
  readonly size: number;

  constructor(file: MemoryFile) {
    this.chunks = [...file.chunks];
    this.size = file.size;
  }

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    if (this.closed) throw new Error('reader is closed');
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`invalid position: ${position}`);
    if (!Number.isSafeInteger(length) || length < 0 || length > buffer.length) throw new RangeError(`invalid length: ${length}`);
    let copied = 0;
    for (const chunk of sliceChunks(this.chunks, position, Math.min(this.size, position + length))) {
      copied += chunk.copy(buffer, copied);
    }
    return copied;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class MemoryFileWriter implements FileWriter {
  private closed = false;

  constructor(
    private readonly file: MemoryFile,
    private readonly onCancel: () => void,
  ) {}

  get size(): number {
    return this.file.size;
  }

  async write(chunk: Buffer): Promise<void> {
    this.assertOpen();
    if (chunk.length === 0) return;
    // Copy: the caller may reuse its buffer, but stored bytes must never change.
    this.file.chunks.push(Buffer.from(chunk));
    this.file.size += chunk.length;
    this.file.modTime = new Date();
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    this.assertOpen();
    for (const chunk of chunks) await this.write(chunk);
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(size) || size < 0 || size > this.file.size) {
      throw new RangeError(`cannot truncate to ${size} bytes (size ${this.file.size})`);
    }
    this.file.chunks = sliceChunks(this.file.chunks, 0, size);
    this.file.size = size;
    this.file.modTime = new Date();
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.closed = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The bytes already sit where a later append finds them. */
  suspend(): Promise<void> {
    return this.close();
  }

  async cancel(): Promise<void> {
    this.closed = true;
    this.onCancel();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('writer is closed');
  }
}

/** StorageDriver keeping every object in a Map; contents vanish with the process. */
export class MemoryDriver implements StorageDriver {
  readonly name = 'memory';
  private readonly files = new Map<string, MemoryFile>();
  private readonly directories = new Map<string, Date>([['/', new Date()]]);

  async getContent(path: string): Promise<Buffer> {
    return Buffer.concat(this.fileAt(path).chunks);
  }

  async putContent(path: string, data: Buffer): Promise<void> {
    this.prepareFile(path);
    this.files.set(path, { chunks: [Buffer.from(data)], size: data.length, modTime: new Date() });
  }

  async reader(path: string, offset = 0, length?: number): Promise<Readable> {
    checkRange(offset, length);
    const file = this.fileAt(path);
    const end = length === undefined ? file.size : Math.min(file.size, offset + length);
    return Readable.from(offset >= end ? [] : sliceChunks(file.chunks, offset, end));
  }

  async openReader(path: string): Promise<FileReader> {
    return new MemoryFileReader(this.fileAt(path));
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    this.prepareFile(path);
    let file = this.files.get(path);
    if (!file || !append) {
      file = { chunks: [], size: 0, modTime: new Date() };
      this.files.set(path, file);
    }
    const written = file;
    // Remove only if nothing replaced the file meanwhile, as unlinking a path would.
    return new MemoryFileWriter(file, () => {
      if (this.files.get(path) === written) this.files.delete(path);
    });
  }

  async stat(path: string): Promise<FileInfo> {
    checkPath(path);
    const file = this.files.get(path);
    if (file) return { path, size: file.size, modTime: file.modTime, isDirectory: false };
    const modTime = this.directories.get(path);
    if (modTime) return { path, size: 0, modTime, isDirectory: true };
    throw new PathNotFoundError(path);
  }

  async list(path: string): Promise<string[]> {
    checkPath(path);
    if (!this.directories.has(path)) throw new PathNotFoundError(path);
    const children: string[] = [];
    for (const candidate of [...this.files.keys(), ...this.directories.keys()]) {
      if (candidate !== '/' && parentOf(candidate) === path) children.push(candidate);
    }
    return children.sort();
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    checkPath(destPath);
    const file = this.fileAt(sourcePath);
    if (sourcePath === destPath) return;
    this.prepareFile(destPath);
    this.files.delete(sourcePath);
    this.files.set(destPath, file);
  }

  async delete(path: string): Promise<void> {
    checkPath(path);
    // Deleting the root would wipe the registry; no layout path ever asks for it.
    if (path === '/') throw new InvalidPathError(path);
    if (this.files.delete(path)) return;
    if (!this.directories.has(path)) throw new PathNotFoundError(path);
    const prefix = `${path}/`;
    for (const key of [...this.files.keys()]) if (key.startsWith(prefix)) this.files.delete(key);
    for (const key of [...this.directories.keys()]) if (key.startsWith(prefix)) this.directories.delete(key);
    this.directories.delete(path);
  }

  async ping(): Promise<void> {}

  private fileAt(path: string): MemoryFile {
    checkPath(path);
    const file = this.files.get(path);
    if (!file) throw new PathNotFoundError(path);
    return file;
  }

  /** Creates missing parent directories; fails like a filesystem when a file is in the way. */
  private prepareFile(path: string): void {
    checkPath(path);
    if (path === '/') throw new InvalidPathError(path);
    if (this.directories.has(path)) throw new Error(`is a directory: ${path}`);
    const missing: string[] = [];
    for (let dir = parentOf(path); !this.directories.has(dir); dir = parentOf(dir)) {
      if (this.files.has(dir)) throw new Error(`not a directory: ${dir}`);
      missing.push(dir);
    }
    const now = new Date();
    for (const dir of missing) this.directories.set(dir, now);
  }
}
