/**
 * The S3 FileWriter: appends go into a multipart upload, in parts of `chunksize` bytes
 * (S3 wants at least 5 MiB for every part but the last). One part uploads while the next
 * fills, so memory stays at two parts per writer whatever the object's size (the buffering
 * and pipelining are shared with Azure and Swift: object-store/part-writer.ts).
 *
 * - commit()/close() complete the multipart upload (or PUT the object when it stayed below
 *   one part): the object appears whole, atomically.
 * - suspend() keeps the multipart upload open and writes the writer's state to
 *   `<key>/.writer`: the upload id, the parts so far and the tail as bytes. A tail of at
 *   least S3's minimum part (5 MiB) is uploaded as a part of its own size first, so only a
 *   tail below 5 MiB is ever carried over (parts differ in size; S3 allows that).
 *   The next append-open, in this process or another, loads it and continues, so a chunked
 *   upload never re-assembles or copies what it already sent. The state object is written
 *   in one PUT, so a crash leaves either the old state or the new one.
 * - Appending to a complete object (not a suspended one) starts from it: below one part it
 *   is read into the buffer, above it becomes part 1 through UploadPartCopy (a server-side
 *   copy; uploads never take this path, see docs/storage.md).
 * - truncate() back to where this writer started (the only truncation uploads make: a
 *   failed request drops its own bytes) restores the parts and tail it found; cutting into
 *   bytes that already went up in an earlier request is refused.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PathNotFoundError, type FileWriter } from '../../driver.js';
import { PartWriter } from '../object-store/part-writer.js';
import { s3Call } from './client.js';
import type { KeySpace } from './keys.js';
import { bodyBytes, copySource, decodeState, encodeState, STATE_SIZE_METADATA, type Part } from './writer-state.js';

/** What every S3 operation of the driver needs. */
export interface S3Context {
  client: S3Client;
  bucket: string;
  keys: KeySpace;
  /** Bytes per multipart part (storage.s3.chunksize, at least 5 MiB). */
  partSize: number;
}


/** S3's smallest part but the last: parts may differ in size above it. */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;

/** The object a writer appends to: copied server-side as the first part once a multipart upload starts. */
interface Base {
  size: number;
}

/** Appends to one S3 object through a multipart upload; see the module comment. */
export class S3FileWriter extends PartWriter implements FileWriter {
  private uploadId: string | null = null;
  private parts: Part[] = [];
  private base: Base | null = null;
  /** A suspended state was loaded at open (the object itself is absent then). */
  private resumed = false;
  private opened: { parts: Part[]; base: Base | null; tail: Buffer } = { parts: [], base: null, tail: Buffer.alloc(0) };
  private readonly key: string;
  private readonly stateKey: string;

  private constructor(
    private readonly ctx: S3Context,
    private readonly path: string,
    private readonly append: boolean,
  ) {
    super();
    this.key = ctx.keys.key(path);
    this.stateKey = ctx.keys.writerStateKey(path);
  }

  protected get partSize(): number {
    return this.ctx.partSize;
  }

  /** Opens path for writing; with append it continues a suspended writer or the object there. */
  static async open(ctx: S3Context, path: string, append: boolean): Promise<S3FileWriter> {
    const writer = new S3FileWriter(ctx, path, append);
    if (append) await writer.load();
    return writer;
  }

  private async load(): Promise<void> {
    const { client, bucket } = this.ctx;
    try {
      const got = await s3Call('GetObject', this.path, () => client.send(new GetObjectCommand({ Bucket: bucket, Key: this.stateKey })));
      const state = decodeState(await bodyBytes(got.Body), this.stateKey);
      this.uploadId = state.uploadId;
      this.parts = state.parts;
      this.fill(state.tail);
      this.resumed = true;
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
      await this.loadObject();
    }
    this.opened = { parts: [...this.parts], base: this.base, tail: Buffer.from(this.pending()) };
  }

  /** Starts from the complete object at the key, if any. */
  private async loadObject(): Promise<void> {
    const { client, bucket } = this.ctx;
    let size: number;
    try {
      const head = await s3Call('HeadObject', this.path, () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: this.key })));
      size = head.ContentLength ?? 0;
    } catch (err) {
      if (err instanceof PathNotFoundError) return;
      throw err;
    }
    if (size >= this.ctx.partSize) {
      this.base = { size };
      return;
    }
    const got = await s3Call('GetObject', this.path, () => client.send(new GetObjectCommand({ Bucket: bucket, Key: this.key })));
    this.fill(await bodyBytes(got.Body));
  }

  get size(): number {
    let total = (this.base?.size ?? 0) + this.filled;
    for (const part of this.parts) total += part.size;
    return total;
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    // Not settle(): a failed part upload is exactly what a truncation back to the start drops.
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
    let openedUploaded = this.opened.base?.size ?? 0;
    for (const part of this.opened.parts) openedUploaded += part.size;
    if (size < openedUploaded || size - openedUploaded > this.opened.tail.length) {
      if (this.failure) throw this.failure.error;
      throw new Error(`cannot truncate ${this.path} to ${size} bytes: bytes below ${uploaded} were uploaded by an earlier writer`);
    }
    this.failure = null;
    // Parts uploaded since are simply left out of the completion; later parts reuse their numbers.
    this.parts = [...this.opened.parts];
    this.base = this.opened.base;
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
    const { client, bucket } = this.ctx;
    // The state must hold everything: a base object becomes part 1 now, since the object goes next.
    if (this.base) await this.ensureMultipart();
    // A tail S3 accepts as a part goes up as one now, whatever its size: the next request then
    // neither reads it back from the state object nor sends it again (a client's 8 MiB PATCHes
    // against 10 MiB parts used to carry up to a part of tail from request to request).
    if (this.filled >= S3_MIN_PART_BYTES) {
      await this.sendBuffer();
      await this.settle();
    }
    const body = encodeState(this.uploadId, this.parts, this.pending());
    await s3Call('PutObject', this.path, () =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: this.stateKey,
          Body: body,
          ContentLength: body.length,
          Metadata: { [STATE_SIZE_METADATA]: String(this.size) },
        }),
      ),
    );
    // While suspended the state is the one truth about this path: no stale object beside it.
    if (!this.resumed) await s3Call('DeleteObject', this.path, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.key })));
  }

  async cancel(): Promise<void> {
    this.closed = true;
    while (this.inflight) await this.inflight;
    const { client, bucket } = this.ctx;
    if (this.uploadId !== null) {
      const UploadId = this.uploadId;
      await s3Call('AbortMultipartUpload', this.path, () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: this.key, UploadId }))).catch(
        (err: unknown) => {
          if (!(err instanceof PathNotFoundError)) throw err;
        },
      );
    }
    await s3Call('DeleteObject', this.path, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.key })));
    await s3Call('DeleteObject', this.path, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.stateKey })));
  }

  /** Makes the object whole at its key: one PUT below a part, else the multipart completion. */
  private async finish(): Promise<void> {
    this.assertOpen();
    this.closed = true;
    await this.settle();
    if (!this.dirty && !this.resumed && this.append) return;
    const { client, bucket } = this.ctx;
    if (this.uploadId === null && this.base === null) {
      const body = this.pending();
      await s3Call('PutObject', this.path, () => client.send(new PutObjectCommand({ Bucket: bucket, Key: this.key, Body: body, ContentLength: body.length })));
    } else {
      if (this.filled > 0 || this.parts.length === 0) {
        await this.sendBuffer();
        await this.settle();
      }
      await this.ensureMultipart();
      const UploadId = this.uploadId!;
      const Parts = this.parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
      await s3Call('CompleteMultipartUpload', this.path, () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: this.key, UploadId, MultipartUpload: { Parts } })),
      );
    }
    // A state left from an earlier suspended writer would otherwise resume stale bytes.
    await s3Call('DeleteObject', this.path, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.stateKey })));
  }

  /** Creates the multipart upload when there is none, and copies the base object in as the next part. */
  private async ensureMultipart(): Promise<void> {
    const { client, bucket } = this.ctx;
    if (this.uploadId === null) {
      const created = await s3Call('CreateMultipartUpload', this.path, () =>
        client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: this.key })),
      );
      if (!created.UploadId) throw new Error(`S3 returned no upload id for ${this.path}`);
      this.uploadId = created.UploadId;
    }
    if (this.base) {
      const UploadId = this.uploadId;
      const PartNumber = this.parts.length + 1;
      const copied = await s3Call('UploadPartCopy', this.path, () =>
        client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: this.key, UploadId, PartNumber, CopySource: copySource(bucket, this.key) })),
      );
      this.parts.push({ PartNumber, ETag: copied.CopyPartResult?.ETag ?? '', size: this.base.size });
      this.base = null;
    }
  }

  /** Uploads the buffer as the next part, in the background; waits for the previous one first. */
  protected async sendBuffer(): Promise<void> {
    await this.settle();
    await this.ensureMultipart();
    const { client, bucket } = this.ctx;
    const data = this.pending();
    const part: Part = { PartNumber: this.parts.length + 1, ETag: '', size: data.length };
    this.parts.push(part);
    this.buffer = null;
    this.filled = 0;
    const UploadId = this.uploadId!;
    this.background(
      s3Call('UploadPart', this.path, () =>
        client.send(new UploadPartCommand({ Bucket: bucket, Key: this.key, UploadId, PartNumber: part.PartNumber, Body: data, ContentLength: data.length })),
      ),
      (result) => {
        part.ETag = result.ETag ?? '';
      },
      (error) => ({ error }),
    );
  }
}
