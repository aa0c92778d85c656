/**
 * The Swift FileWriter: appends become segments of `chunksize` bytes (segments.ts), one
 * uploading while the next fills, so memory stays at two segments per writer whatever the
 * object's size. The design is the S3 writer's (drivers/s3/writer.ts) with segments for
 * parts:
 *
 * - commit()/close() PUT the object: one plain PUT below one segment, else the last
 *   segment and then the SLO manifest (`?multipart-manifest=put`), which makes the object
 *   appear whole, atomically. The segment set is claimed for the object first.
 * - suspend() writes the writer's state to `<key>/.writer` in one PUT: the set, the
 *   segments so far and the tail below one segment as bytes. The next append-open, in this
 *   process or another replica, loads it and continues; nothing is re-assembled or copied.
 * - Appending to a complete object starts from it: below one segment it is read into the
 *   buffer, above it is copied server-side into the first segment (uploads never do this:
 *   they suspend).
 * - truncate() back to where this writer started restores the segments and tail it found;
 *   cutting into bytes an earlier request uploaded is refused.
 */
import { PathNotFoundError, type FileWriter } from '../../driver.js';
import { PartWriter } from '../object-store/part-writer.js';
import type { SwiftClient } from './client.js';
import { deleteIfPresent, SEGMENTS_HEADER, type SegmentRef, type Segments } from './segments.js';
import { decodeState, encodeState, STATE_SIZE_HEADER } from './writer-state.js';
import { header } from './auth.js';

/** What every Swift operation of the driver needs. */
export interface SwiftContext {
  client: SwiftClient;
  segments: Segments;
  /** Object name of a path. */
  key(path: string): string;
  /** Object name of a path's suspended-writer state. */
  stateKey(path: string): string;
  /** Bytes per segment (storage.swift.chunksize). */
  segmentSize: number;
  /** Deletes the object at key (releasing the segments it owns); false when absent. */
  deleteObject(path: string, key: string): Promise<boolean>;
}

export class SwiftFileWriter extends PartWriter implements FileWriter {
  private set: string;
  private segments: SegmentRef[] = [];
  /** A suspended state was loaded at open (the object itself is absent then). */
  private resumed = false;
  private opened: { segments: SegmentRef[]; tail: Buffer } = { segments: [], tail: Buffer.alloc(0) };
  private readonly key: string;
  private readonly stateKey: string;

  private constructor(
    private readonly ctx: SwiftContext,
    private readonly path: string,
    private readonly append: boolean,
  ) {
    super();
    this.key = ctx.key(path);
    this.stateKey = ctx.stateKey(path);
    this.set = ctx.segments.newSet(path);
  }

  protected get partSize(): number {
    return this.ctx.segmentSize;
  }

  static async open(ctx: SwiftContext, path: string, append: boolean): Promise<SwiftFileWriter> {
    const writer = new SwiftFileWriter(ctx, path, append);
    if (append) await writer.load();
    return writer;
  }

  private async load(): Promise<void> {
    const { client } = this.ctx;
    try {
      const response = await client.ok('GET', this.path, { method: 'GET', object: this.stateKey });
      const state = decodeState(Buffer.from(await response.body.arrayBuffer()), this.stateKey);
      this.set = state.set;
      this.segments = state.segments;
      this.fill(state.tail);
      this.resumed = true;
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
      await this.loadObject();
    }
    this.opened = { segments: [...this.segments], tail: Buffer.from(this.pending()) };
  }

  /** Starts from the complete object at the key, if any. */
  private async loadObject(): Promise<void> {
    const { client } = this.ctx;
    let size: number;
    try {
      size = Number(header(await client.done('HEAD', this.path, { method: 'HEAD', object: this.key }), 'content-length') ?? 0);
    } catch (err) {
      if (err instanceof PathNotFoundError) return;
      throw err;
    }
    if (size < this.ctx.segmentSize) {
      const response = await client.ok('GET', this.path, { method: 'GET', object: this.key });
      this.fill(Buffer.from(await response.body.arrayBuffer()));
      return;
    }
    // A server-side copy of the whole object (SLO or not) becomes the first segment.
    const name = this.ctx.segments.name(this.set, 0);
    await client.done('COPY', this.path, { method: 'PUT', object: name, headers: { 'x-copy-from': client.objectPath(this.key), 'content-length': '0' } });
    const etag = header(await client.done('HEAD', this.path, { method: 'HEAD', object: name }), 'etag') ?? '';
    this.segments.push({ etag: etag.replace(/"/g, ''), size });
  }

  get size(): number {
    let total = this.filled;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    while (this.inflight) await this.inflight;
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`cannot truncate to ${size} bytes (size ${this.size})`);
    }
    const uploaded = this.size - this.filled;
    this.dirty = true;
    if (size >= uploaded && !this.failure) {
      this.filled = size - uploaded;
      return;
    }
    let openedUploaded = 0;
    for (const segment of this.opened.segments) openedUploaded += segment.size;
    if (size < openedUploaded || size - openedUploaded > this.opened.tail.length) {
      if (this.failure) throw this.failure.error;
      throw new Error(`cannot truncate ${this.path} to ${size} bytes: bytes below ${uploaded} were uploaded by an earlier writer`);
    }
    this.failure = null;
    // Segments uploaded since are left out of the manifest; later segments overwrite their names.
    this.segments = [...this.opened.segments];
    this.filled = 0;
    this.fill(this.opened.tail.subarray(0, size - openedUploaded));
  }

  async commit(): Promise<void> {
    await this.finish();
  }

  async close(): Promise<void> {
    await this.finish();
  }

  async suspend(): Promise<void> {
    this.assertOpen();
    this.closed = true;
    await this.settle();
    if (!this.dirty) return;
    const body = encodeState(this.set, this.segments, this.pending());
    await this.ctx.client.done('PUT', this.path, { method: 'PUT', object: this.stateKey, body, headers: { [STATE_SIZE_HEADER]: String(this.size) } });
    // While suspended the state is the one truth about this path: no stale object beside it.
    if (!this.resumed) await this.ctx.deleteObject(this.path, this.key);
  }

  async cancel(): Promise<void> {
    this.closed = true;
    while (this.inflight) await this.inflight;
    await this.ctx.deleteObject(this.path, this.key);
    await deleteIfPresent(this.ctx.client, this.path, this.stateKey);
    await this.ctx.segments.release(this.path, this.set, this.key);
  }

  /** Makes the object whole at its key: one PUT below a segment, else the SLO manifest. */
  private async finish(): Promise<void> {
    this.assertOpen();
    this.closed = true;
    await this.settle();
    if (!this.dirty && !this.resumed && this.append) return;
    const { client, segments } = this.ctx;
    const before = await this.replacedSet();
    if (this.segments.length === 0) {
      await client.done('PUT', this.path, { method: 'PUT', object: this.key, body: this.pending() });
    } else {
      if (this.filled > 0) {
        await this.sendBuffer();
        await this.settle();
      }
      await segments.claim(this.path, this.set, this.key);
      await client.done('PUT', this.path, {
        method: 'PUT',
        object: this.key,
        query: { 'multipart-manifest': 'put' },
        headers: { [SEGMENTS_HEADER]: this.set, 'content-type': 'application/octet-stream' },
        body: segments.manifest(this.set, this.segments),
      });
    }
    await deleteIfPresent(client, this.path, this.stateKey);
    // The object this one replaced: its segments are garbage now (if it owned them).
    if (before !== undefined && before !== this.set) await segments.release(this.path, before, this.key);
    // Segments this writer uploaded but did not use (truncated away, or a small object after all).
    if (this.segments.length === 0) await segments.release(this.path, this.set, this.key);
  }

  /** The segment set of the object at the key now, before this writer replaces it. */
  private async replacedSet(): Promise<string | undefined> {
    if (this.resumed) return undefined; // suspend() removed the object
    try {
      return this.ctx.segments.setOf(await this.ctx.client.done('HEAD', this.path, { method: 'HEAD', object: this.key }));
    } catch (err) {
      if (err instanceof PathNotFoundError) return undefined;
      throw err;
    }
  }

  /** Uploads the buffer as the next segment, in the background; waits for the previous one first. */
  protected async sendBuffer(): Promise<void> {
    await this.settle();
    const data = this.pending();
    const segment: SegmentRef = { etag: '', size: data.length };
    const name = this.ctx.segments.name(this.set, this.segments.length);
    this.segments.push(segment);
    this.buffer = null;
    this.filled = 0;
    this.background(
      this.ctx.client.done('PUT', this.path, { method: 'PUT', object: name, body: data }),
      (headers) => {
        segment.etag = (header(headers, 'etag') ?? '').replace(/"/g, '');
      },
      (error) => ({ error }),
    );
  }
}
