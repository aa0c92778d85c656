/**
 * StorageDriver on OpenStack Swift (and the Swift API of Ceph RGW), configured as CNCF
 * distribution's swift driver is (`storage.swift`, docs/storage.md). Objects live at
 * `<prefix>/<path>` in one container; directories are name prefixes. Large objects are
 * static large objects: segments plus a manifest (segments.ts), written by a writer that
 * can be suspended between requests and continued on another replica (writer.ts); a
 * move copies only the manifest, so completing an upload into its content address sends
 * no blob bytes. Auth v1 and Keystone v3, timeouts and retries are in client.ts; a store
 * that still fails surfaces as StorageUnavailableError (503), a missing object as
 * PathNotFoundError. Tested by the storage contract suite against Ceph RGW's Swift API.
 */
import { Readable } from 'node:stream';
import type { SwiftStorageConfig } from '../../../../../shared/config/index.js';
import { checkPath, InvalidPathError, PathNotFoundError, StorageUnavailableError, type FileInfo, type FileReader, type FileWriter, type StorageDriver } from '../../driver.js';
import { KeySpace, WRITER_STATE_NAME } from '../s3/keys.js';
import { header, SwiftClient } from './client.js';
import { SwiftFileReader } from './reader.js';
import { deleteIfPresent, listNames, SEGMENTS_HEADER, Segments } from './segments.js';
import { SwiftFileWriter, type SwiftContext } from './writer.js';
import { decodeState, STATE_SIZE_HEADER } from './writer-state.js';

type Headers = Record<string, string | string[] | undefined>;

function checkRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset: ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new RangeError(`invalid length: ${length}`);
}

function infoOf(path: string, headers: Headers): FileInfo {
  const modified = header(headers, 'last-modified');
  return { path, size: Number(header(headers, 'content-length') ?? 0), modTime: modified ? new Date(modified) : new Date(), isDirectory: false };
}

export class SwiftDriver implements StorageDriver {
  readonly name = 'swift';
  readonly client: SwiftClient;
  private readonly keys: KeySpace;
  private readonly segments: Segments;
  private readonly ctx: SwiftContext;

  constructor(readonly config: SwiftStorageConfig) {
    this.client = new SwiftClient(config);
    this.keys = new KeySpace(config.prefix);
    this.segments = new Segments(this.client, this.keys.dirPrefix('/'));
    this.ctx = {
      client: this.client,
      segments: this.segments,
      key: (path) => this.keys.key(path),
      stateKey: (path) => this.keys.writerStateKey(path),
      segmentSize: config.chunkSize,
      deleteObject: (path, key) => this.deleteObject(path, key),
    };
  }

  async getContent(path: string): Promise<Buffer> {
    const response = await this.client.ok('GET', path, { method: 'GET', object: this.keys.key(path) });
    return Buffer.from(await response.body.arrayBuffer());
  }

  async putContent(path: string, data: Buffer): Promise<void> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    const key = this.keys.key(path);
    const [, before] = await Promise.all([this.assertNoObjectAbove(path), this.head(path, key)]);
    // One PUT replaces the object atomically and is durable when Swift answers.
    await this.client.done('PUT', path, { method: 'PUT', object: key, body: data });
    const replaced = before && this.segments.setOf(before);
    if (replaced) await this.segments.release(path, replaced, key);
  }

  async reader(path: string, offset = 0, length?: number): Promise<Readable> {
    checkRange(offset, length);
    const { size } = await this.stat(path).then((info) => (info.isDirectory ? Promise.reject(new PathNotFoundError(path)) : info));
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (offset >= end) return Readable.from([]);
    const response = await this.client.ok('GET', path, { method: 'GET', object: this.keys.key(path), headers: { range: `bytes=${offset}-${end - 1}` } });
    return response.body;
  }

  async openReader(path: string): Promise<FileReader> {
    const headers = await this.client.done('HEAD', path, { method: 'HEAD', object: this.keys.key(path) });
    return new SwiftFileReader(this.ctx, path, infoOf(path, headers).size);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    return SwiftFileWriter.open(this.ctx, path, append);
  }

  async stat(path: string): Promise<FileInfo> {
    if (checkPath(path) === '/') return { path, size: 0, modTime: new Date(), isDirectory: true };
    const headers = await this.head(path, this.keys.key(path));
    if (headers) return infoOf(path, headers);
    // Not an object: a directory (objects below it), a suspended writer (only its state below it), or nothing.
    const prefix = this.keys.dirPrefix(path);
    const response = await this.client.ok('GET', path, { method: 'GET', query: { format: 'json', prefix, limit: '2' } });
    const entries = (await response.body.json()) as Array<{ name: string; last_modified?: string }>;
    if (entries.length === 0) throw new PathNotFoundError(path);
    if (entries.length === 1 && entries[0].name === prefix + WRITER_STATE_NAME) {
      const state = await this.client.done('HEAD', path, { method: 'HEAD', object: prefix + WRITER_STATE_NAME });
      return { path, size: Number(header(state, STATE_SIZE_HEADER) ?? 0), modTime: infoOf(path, state).modTime, isDirectory: false };
    }
    const modified = entries[0].last_modified;
    return { path, size: 0, modTime: modified ? new Date(`${modified}Z`) : new Date(), isDirectory: true };
  }

  async list(path: string): Promise<string[]> {
    const prefix = this.keys.dirPrefix(path);
    const found = new Set<string>();
    let marker = '';
    let any = false;
    for (;;) {
      const response = await this.client.ok('GET', path, { method: 'GET', query: { format: 'json', prefix, delimiter: '/', marker, limit: '1000' } });
      const page = (await response.body.json()) as Array<{ name?: string; subdir?: string }>;
      for (const entry of page) {
        const name = entry.name ?? entry.subdir;
        if (name === undefined) continue;
        any = true;
        found.add(this.keys.pathOf(name));
      }
      if (page.length < 1000) break;
      const last = page[page.length - 1];
      marker = last.name ?? last.subdir ?? '';
    }
    if (!any && path !== '/') throw new PathNotFoundError(path);
    // Names starting with a dot are the driver's own (writer state, segments), never paths.
    return [...found].filter((entry) => !entry.slice(entry.lastIndexOf('/') + 1).startsWith('.')).sort();
  }

  /**
   * A server-side COPY, then DELETE of the source: Swift has no rename. An SLO is moved by
   * copying its manifest only (`?multipart-manifest=get`), after handing its segments to the
   * destination (segments.ts), so no segment byte is copied.
   */
  async move(sourcePath: string, destPath: string): Promise<void> {
    if (checkPath(sourcePath) === '/' || checkPath(destPath) === '/') throw new InvalidPathError('/');
    const source = this.keys.key(sourcePath);
    const dest = this.keys.key(destPath);
    const [found, before] = await Promise.all([this.head(sourcePath, source), this.head(destPath, dest)]);
    if (!found) throw new PathNotFoundError(sourcePath);
    const set = this.segments.setOf(found);
    const copy = { 'x-copy-from': this.client.objectPath(source), 'content-length': '0' };
    if (set) {
      await this.segments.claim(sourcePath, set, dest);
      await this.client.done('COPY', sourcePath, { method: 'PUT', object: dest, query: { 'multipart-manifest': 'get' }, headers: { ...copy, [SEGMENTS_HEADER]: set } });
    } else {
      await this.client.done('COPY', sourcePath, { method: 'PUT', object: dest, headers: copy });
    }
    // The source no longer owns the segments: a plain DELETE removes the manifest alone.
    await deleteIfPresent(this.client, sourcePath, source);
    const replaced = before && this.segments.setOf(before);
    if (replaced && replaced !== set) await this.segments.release(destPath, replaced, dest);
  }

  /** The object, everything below it, suspended writers' segments, and the segments the objects own. */
  async delete(path: string): Promise<void> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    let found = await this.deleteObject(path, this.keys.key(path));
    for (const name of await listNames(this.client, path, this.keys.dirPrefix(path))) {
      found = true;
      if (name.endsWith(`/${WRITER_STATE_NAME}`)) await this.deleteWriterState(path, name);
      else await this.deleteObject(path, name);
    }
    // Segments of writers of this path that never wrote a state (killed mid-request).
    await this.segments.sweep(path);
    if (!found) throw new PathNotFoundError(path);
  }

  /** The container answers to these credentials. */
  async ping(): Promise<void> {
    const response = await this.client.send('HEAD', '/', { method: 'HEAD' });
    await response.body.dump();
    if (response.statusCode === 404) throw new StorageUnavailableError(`Swift container check failed: container ${this.config.container} does not exist`);
    if (response.statusCode >= 300) throw new StorageUnavailableError(`Swift container check failed: HTTP ${response.statusCode}`);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Deletes the object at key; an SLO that owns its segments goes with them
   * (`?multipart-manifest=delete`). False when there was no object.
   */
  private async deleteObject(path: string, key: string): Promise<boolean> {
    const headers = await this.head(path, key);
    if (!headers) return false;
    const set = this.segments.setOf(headers);
    if (set && (await this.segments.ownerOf(path, set)) === key) {
      await deleteIfPresent(this.client, path, key, { 'multipart-manifest': 'delete' });
      await this.segments.release(path, set, key);
    } else {
      await deleteIfPresent(this.client, path, key);
    }
    return true;
  }

  /** A suspended writer's state and the segments it uploaded. */
  private async deleteWriterState(path: string, name: string): Promise<void> {
    const response = await this.client.send('GET', path, { method: 'GET', object: name });
    if (response.statusCode === 404) return void (await response.body.dump());
    if (response.statusCode >= 300) await this.client.ok('GET', path, { method: 'GET', object: name }); // throws
    const { set } = decodeState(Buffer.from(await response.body.arrayBuffer()), name);
    await deleteIfPresent(this.client, path, name);
    await this.segments.release(path, set, name.slice(0, -`/${WRITER_STATE_NAME}`.length));
  }

  /** HEAD of an object, or undefined when absent. */
  private async head(path: string, key: string): Promise<Headers | undefined> {
    try {
      return await this.client.done('HEAD', path, { method: 'HEAD', object: key });
    } catch (err) {
      if (err instanceof PathNotFoundError) return undefined;
      throw err;
    }
  }

  /** As on S3 (drivers/s3/index.ts): no object below an object, like a filesystem. */
  private async assertNoObjectAbove(path: string): Promise<void> {
    const parts = path.split('/').slice(1, -1);
    const ancestors = parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
    const found = await Promise.all(ancestors.map((ancestor) => this.head(ancestor, this.keys.key(ancestor))));
    if (found.some((headers) => headers !== undefined)) throw new InvalidPathError(path);
  }
}
