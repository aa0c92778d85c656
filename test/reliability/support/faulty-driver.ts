/**
 * A StorageDriver wrapper that injects the faults a real disk produces: no space left
 * (ENOSPC after a byte budget, a write cut short at the budget as the kernel does), I/O
 * errors on writes, and reads that fail at open or break off mid-stream. Everything else
 * passes through to the real driver underneath, so what does get written is real.
 */
import { Readable, Transform } from 'node:stream';
import type { FileInfo, FileReader, FileWriter, StorageDriver } from '../../../services/registry/storage/driver.js';

/** An errno-style error, as node:fs raises it. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${syscall} '${path}'`), { code, syscall, path });
}

/** The faults currently switched on. */
interface Faults {
  /** Bytes that may still be written; null = unlimited. */
  spaceLeft: number | null;
  /** errno code every write fails with; null = none. */
  writeError: string | null;
  /** errno code reads fail with, after `readFailsAfter` bytes of each stream. */
  readError: string | null;
  readFailsAfter: number;
}

class FaultyWriter implements FileWriter {
  constructor(
    private readonly inner: FileWriter,
    private readonly faults: Faults,
    private readonly path: string,
  ) {}

  get size(): number {
    return this.inner.size;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.faults.writeError) throw errnoError(this.faults.writeError, 'write', this.path);
    const left = this.faults.spaceLeft;
    if (left !== null && chunk.length > left) {
      // The kernel writes what fits, then the next write fails.
      if (left > 0) await this.inner.write(chunk.subarray(0, left));
      this.faults.spaceLeft = 0;
      throw errnoError('ENOSPC', 'write', this.path);
    }
    if (left !== null) this.faults.spaceLeft = left - chunk.length;
    await this.inner.write(chunk);
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    for (const chunk of chunks) await this.write(chunk);
  }

  commit(options?: { name?: boolean }): Promise<void> {
    if (this.faults.writeError) return Promise.reject(errnoError(this.faults.writeError, 'fsync', this.path));
    return this.inner.commit(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  suspend(): Promise<void> {
    return this.inner.suspend();
  }

  cancel(): Promise<void> {
    return this.inner.cancel();
  }

  truncate(size: number): Promise<void> {
    return this.inner.truncate(size);
  }
}

/** A driver whose faults a test switches on and off. */
export class FaultyDriver implements StorageDriver {
  readonly name: string;
  private readonly faults: Faults = { spaceLeft: null, writeError: null, readError: null, readFailsAfter: 0 };

  constructor(private readonly inner: StorageDriver) {
    this.name = inner.name;
  }

  /** Only `bytes` more may be written (null: unlimited again, as after deleting a filler). */
  limitSpace(bytes: number | null): void {
    this.faults.spaceLeft = bytes;
  }

  /** Every write, fsync, put and move fails with `code` (null: healthy again). */
  failWrites(code: string | null): void {
    this.faults.writeError = code;
  }

  /** Every read fails with `code`, after `afterBytes` bytes of its stream (null: healthy again). */
  failReads(code: string | null, afterBytes = 0): void {
    this.faults.readError = code;
    this.faults.readFailsAfter = afterBytes;
  }

  getContent(path: string): Promise<Buffer> {
    if (this.faults.readError) return Promise.reject(errnoError(this.faults.readError, 'read', path));
    return this.inner.getContent(path);
  }

  async putContent(path: string, data: Buffer, options?: { durable?: boolean }): Promise<void> {
    if (this.faults.writeError) throw errnoError(this.faults.writeError, 'write', path);
    const left = this.faults.spaceLeft;
    // putContent is atomic (temp file + rename): a write that does not fit leaves nothing.
    if (left !== null && data.length > left) throw errnoError('ENOSPC', 'write', path);
    if (left !== null) this.faults.spaceLeft = left - data.length;
    await this.inner.putContent(path, data, options);
  }

  async reader(path: string, offset?: number, length?: number): Promise<Readable> {
    const { readError, readFailsAfter } = this.faults;
    if (readError && readFailsAfter === 0) throw errnoError(readError, 'read', path);
    const stream = await this.inner.reader(path, offset, length);
    if (!readError) return stream;
    let passed = 0;
    const breaking = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const room = readFailsAfter - passed;
        if (chunk.length < room) {
          passed += chunk.length;
          callback(null, chunk);
          return;
        }
        if (room > 0) this.push(chunk.subarray(0, room));
        passed = readFailsAfter;
        callback(errnoError(readError, 'read', path));
      },
    });
    stream.on('error', (err) => breaking.destroy(err));
    breaking.on('close', () => stream.destroy());
    return stream.pipe(breaking);
  }

  async openReader(path: string): Promise<FileReader> {
    const { readError, readFailsAfter } = this.faults;
    if (readError && readFailsAfter === 0) throw errnoError(readError, 'read', path);
    const inner = await this.inner.openReader(path);
    if (!readError) return inner;
    let passed = 0;
    return {
      size: inner.size,
      async read(buffer: Buffer, length: number, position: number): Promise<number> {
        const room = readFailsAfter - passed;
        if (room <= 0) throw errnoError(readError, 'read', path);
        const bytes = await inner.read(buffer, Math.min(length, room), position);
        passed += bytes;
        return bytes;
      },
      close: () => inner.close(),
    };
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    if (this.faults.writeError) throw errnoError(this.faults.writeError, 'open', path);
    return new FaultyWriter(await this.inner.writer(path, append), this.faults, path);
  }

  stat(path: string): Promise<FileInfo> {
    return this.inner.stat(path);
  }

  list(path: string): Promise<string[]> {
    return this.inner.list(path);
  }

  move(sourcePath: string, destPath: string): Promise<void> {
    if (this.faults.writeError) return Promise.reject(errnoError(this.faults.writeError, 'rename', destPath));
    return this.inner.move(sourcePath, destPath);
  }

  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}
