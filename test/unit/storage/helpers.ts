/**
 * Shared fixtures for the storage unit tests: both real drivers, and a pass-through driver
 * that counts reads so tests can prove when upload data is (not) re-read.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FileInfo, FileReader, FileWriter, StorageDriver } from '../../../services/registry/storage/driver.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import { MemoryDriver } from '../../../services/registry/storage/drivers/memory.js';
import type { Digest, DigestAlgorithm } from '../../../shared/grammar/reference.js';

/** A driver plus its disposal; `root` is set for the filesystem driver. */
export interface DriverCase {
  driver: StorageDriver;
  root?: string;
  cleanup: () => Promise<void>;
}

/** Factories for every driver the unit tests run against. */
export const DRIVER_CASES: Array<{ name: string; make: () => Promise<DriverCase> }> = [
  { name: 'memory', make: async () => ({ driver: new MemoryDriver(), cleanup: async () => {} }) },
  {
    name: 'filesystem',
    make: async () => {
      const root = await mkdtemp(join(tmpdir(), 'dockyard-storage-unit-'));
      return { driver: new FilesystemDriver(root), root, cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
];

/** Delegates everything to `inner` and records every path passed to reader() or openReader(). */
export class CountingDriver implements StorageDriver {
  readonly name: string;
  readonly readerPaths: string[] = [];

  constructor(private readonly inner: StorageDriver) {
    this.name = inner.name;
  }

  getContent(path: string): Promise<Buffer> {
    return this.inner.getContent(path);
  }
  putContent(path: string, data: Buffer, options?: { durable?: boolean }): Promise<void> {
    return this.inner.putContent(path, data, options);
  }
  reader(path: string, offset?: number, length?: number): Promise<Readable> {
    this.readerPaths.push(path);
    return this.inner.reader(path, offset, length);
  }
  openReader(path: string): Promise<FileReader> {
    this.readerPaths.push(path);
    return this.inner.openReader(path);
  }
  writer(path: string, append: boolean): Promise<FileWriter> {
    return this.inner.writer(path, append);
  }
  stat(path: string): Promise<FileInfo> {
    return this.inner.stat(path);
  }
  list(path: string): Promise<string[]> {
    return this.inner.list(path);
  }
  move(sourcePath: string, destPath: string): Promise<void> {
    return this.inner.move(sourcePath, destPath);
  }
  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
}

/** Reads a stream to the end. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The digest of bytes, computed independently of the code under test. */
export function digestFor(bytes: Buffer, algorithm: DigestAlgorithm = 'sha256'): Digest {
  const encoded = createHash(algorithm).update(bytes).digest('hex');
  return { algorithm, encoded, value: `${algorithm}:${encoded}` };
}
