/**
 * StorageDriver on a local directory (the embedded default, and any shared POSIX mount).
 *
 * Durability: putContent and move write or rename within one directory and fsync both the
 * file and the directory, so after they resolve the new content survives a power cut and
 * a reader never sees a half-written object. Writers append through one file handle and
 * fsync on commit. putContent and linkFile go through `<root>/.tmp/<put|link>.<random>.tmp`
 * (a leading dot is not a valid path component, so the directory can never collide with a
 * real object or show in list()); a crash mid-write leaves the file there, where
 * sweepTemporaryFiles finds it without walking the store.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Dirent, type Stats } from 'node:fs';
import { access, link, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
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
import { treeRemover } from './filesystem-remover.js';
import { FilesystemFileWriter, fsyncDirectory, writeAll } from './filesystem-writer.js';

/** Directory under the root for putContent's temporary files (same filesystem, so rename is atomic). */
const TEMP_DIRECTORY = '.tmp';

/** Large reads keep syscalls and event-loop turns per layer low when serving blobs. */
const READ_HIGH_WATER_MARK = 1024 * 1024;

/** link() failures that mean "copy instead": another file system, or links not supported there. */
const LINK_IMPOSSIBLE: ReadonlySet<string> = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

async function unlinkIfPresent(full: string): Promise<void> {
  try {
    await unlink(full);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

/** Entries a directory removed in place may have; a larger one goes to a removal thread. */
const IN_PLACE_ENTRIES = 16;

/**
 * Removes a directory. A few files (an upload session: a request's own) are unlinked right
 * here, side by side; a tree, or many entries (the collector's trash batches), is removed on
 * a removal thread (filesystem-remover.ts). Each such thread costs about 8 MiB while it
 * lives: with every upload's removal on a thread, the registry's peak RSS in the 32-client
 * load test went from under its 320 MiB bound to 359 MiB, for no gain on removals this small.
 */
async function removeDirectory(full: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(full, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  if (entries.length > IN_PLACE_ENTRIES || entries.some((entry) => entry.isDirectory())) return treeRemover.remove(full);
  await Promise.all(entries.map((entry) => unlinkIfPresent(join(full, entry.name))));
  try {
    await rmdir(full);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

/** ENOENT, and ENOTDIR (a file where a directory was expected), mean "nothing at this path". */
function isMissing(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function checkRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset: ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new RangeError(`invalid length: ${length}`);
  }
}

function checkRead(length: number, position: number, buffer: Buffer): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`invalid position: ${position}`);
  if (!Number.isSafeInteger(length) || length < 0 || length > buffer.length) throw new RangeError(`invalid length: ${length}`);
}

/** Positional reads through one open handle. */
class FilesystemFileReader implements FileReader {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    checkRead(length, position, buffer);
    if (length === 0) return 0;
    const { bytesRead } = await this.handle.read(buffer, 0, length, position);
    return bytesRead;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** StorageDriver storing every object as a file under one root directory. */
export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  private readonly root: string;

  constructor(rootDirectory: string) {
    this.root = resolve(rootDirectory);
  }

  async getContent(path: string): Promise<Buffer> {
    const full = this.resolvePath(path);
    try {
      return await readFile(full);
    } catch (err) {
      if (isMissing(err) || errorCode(err) === 'EISDIR') throw new PathNotFoundError(path);
      throw err;
    }
  }

  async putContent(path: string, data: Buffer, options: { durable?: boolean } = {}): Promise<void> {
    const durable = options.durable ?? true;
    const { full, directory, temp } = await this.temporaryFor(path, 'put');
    try {
      const handle = await open(temp, 'wx');
      try {
        await writeAll(handle, data);
        if (durable) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, full);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    if (durable) await fsyncDirectory(directory);
  }

  async reader(path: string, offset = 0, length?: number): Promise<Readable> {
    checkRange(offset, length);
    const { handle, size } = await this.openObject(path);
    const end = length === undefined ? size - 1 : Math.min(size, offset + length) - 1;
    if (offset > end) {
      await handle.close();
      return Readable.from([]);
    }
    return handle.createReadStream({ start: offset, end, highWaterMark: READ_HIGH_WATER_MARK, autoClose: true });
  }

  async openReader(path: string): Promise<FileReader> {
    const { handle, size } = await this.openObject(path);
    return new FilesystemFileReader(handle, size);
  }

  /** Opens an object for reading with its size; PathNotFoundError when absent or a directory. */
  private async openObject(path: string): Promise<{ handle: FileHandle; size: number }> {
    const full = this.resolvePath(path);
    let handle: FileHandle;
    try {
      handle = await open(full, 'r');
    } catch (err) {
      if (isMissing(err)) throw new PathNotFoundError(path);
      throw err;
    }
    try {
      const info = await handle.stat();
      // A directory opens fine for reading on Linux, but holds no object.
      if (info.isDirectory()) throw new PathNotFoundError(path);
      return { handle, size: info.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }


  async writer(path: string, append: boolean): Promise<FileWriter> {
    const full = this.resolvePath(path);
    if (path === '/') throw new InvalidPathError(path);
    await mkdir(dirname(full), { recursive: true });
    // Opening a directory for writing fails with EISDIR, so no type check is needed here.
    const handle = await open(full, append ? 'a' : 'w');
    try {
      return new FilesystemFileWriter(handle, full, (await handle.stat()).size);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(path: string): Promise<FileInfo> {
    const full = this.resolvePath(path);
    try {
      const info = await stat(full);
      return { path, size: info.size, modTime: info.mtime, isDirectory: info.isDirectory() };
    } catch (err) {
      if (isMissing(err)) throw new PathNotFoundError(path);
      throw err;
    }
  }

  async list(path: string): Promise<string[]> {
    const full = this.resolvePath(path);
    let names: string[];
    try {
      names = await readdir(full);
    } catch (err) {
      // An empty store has no root directory yet; it still has an (empty) root.
      if (path === '/' && errorCode(err) === 'ENOENT') return [];
      if (isMissing(err)) throw new PathNotFoundError(path);
      throw err;
    }
    const prefix = path === '/' ? '/' : `${path}/`;
    return names
      .filter((name) => !name.startsWith('.'))
      .map((name) => prefix + name)
      .sort();
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    const source = this.resolvePath(sourcePath);
    const dest = this.resolvePath(destPath);
    if (sourcePath === '/' || destPath === '/') throw new InvalidPathError('/');
    await this.renameMakingParent(sourcePath, source, dest);
    // Only the new name has to survive a power cut; the old one going is part of the same
    // journaled rename, and at worst a leftover in an upload directory is purged later.
    await fsyncDirectory(dirname(dest));
  }

  async rename(sourcePath: string, destPath: string): Promise<void> {
    if (sourcePath === '/' || destPath === '/') throw new InvalidPathError('/');
    const source = this.resolvePath(sourcePath);
    const dest = this.resolvePath(destPath);
    try {
      await rename(source, dest);
      return;
    } catch (err) {
      // ENOENT is either side: a missing source, or a destination parent not made yet.
      if (!isMissing(err)) throw err;
    }
    await this.renameMakingParent(sourcePath, source, dest);
  }

  /** Renames after checking the source exists and making the destination's directory. */
  private async renameMakingParent(sourcePath: string, source: string, dest: string): Promise<void> {
    await this.stat(sourcePath);
    await mkdir(dirname(dest), { recursive: true });
    try {
      await rename(source, dest);
    } catch (err) {
      if (isMissing(err)) throw new PathNotFoundError(sourcePath);
      throw err;
    }
  }

  async delete(path: string): Promise<void> {
    // Deleting the root would wipe the registry; no layout path ever asks for it.
    if (path === '/') throw new InvalidPathError(path);
    const full = this.resolvePath(path);
    let info: Stats;
    try {
      info = await stat(full);
    } catch (err) {
      if (isMissing(err)) throw new PathNotFoundError(path);
      throw err;
    }
    if (info.isDirectory()) await removeDirectory(full);
    else await unlinkIfPresent(full);
  }

  /** Deletes putContent / linkFile temporary files older than `olderThanMs` (left by a crash); returns how many. */
  async sweepTemporaryFiles(olderThanMs: number): Promise<number> {
    const directory = join(this.root, TEMP_DIRECTORY);
    let names: string[];
    try {
      names = await readdir(directory);
    } catch (err) {
      if (isMissing(err)) return 0;
      throw err;
    }
    const cutoff = Date.now() - olderThanMs;
    let swept = 0;
    for (const name of names) {
      const path = join(directory, name);
      // Younger files may belong to a write in progress; a vanished one was finished meanwhile.
      const info = await stat(path).catch(() => null);
      if (!info || info.mtimeMs > cutoff) continue;
      await rm(path, { force: true });
      swept += 1;
    }
    return swept;
  }

  async linkFile(source: string, path: string): Promise<boolean> {
    const { full, directory, temp } = await this.temporaryFor(path, 'link');
    try {
      await link(source, temp);
    } catch (err) {
      if (LINK_IMPOSSIBLE.has(errorCode(err) ?? '')) return false;
      throw err;
    }
    try {
      await rename(temp, full);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await fsyncDirectory(directory);
    return true;
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, fsConstants.R_OK | fsConstants.W_OK);
  }

  /** The object's full path, its (created) directory, and a temp name in `<root>/.tmp` to rename from. */
  private async temporaryFor(path: string, kind: string): Promise<{ full: string; directory: string; temp: string }> {
    const full = this.resolvePath(path);
    if (path === '/') throw new InvalidPathError(path);
    const directory = dirname(full);
    await mkdir(directory, { recursive: true });
    await mkdir(join(this.root, TEMP_DIRECTORY), { recursive: true });
    return { full, directory, temp: join(this.root, TEMP_DIRECTORY, `${kind}.${randomBytes(8).toString('hex')}.tmp`) };
  }

  /** Validates a storage path and maps it under the root; the second check is defence in depth. */
  private resolvePath(path: string): string {
    checkPath(path);
    if (path === '/') return this.root;
    const full = join(this.root, ...path.slice(1).split('/'));
    if (!full.startsWith(this.root + sep)) throw new InvalidPathError(path);
    return full;
  }
}
