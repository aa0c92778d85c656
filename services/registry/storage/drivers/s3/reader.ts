/**
 * Positional reads of an S3 object. A blob is served by reads at increasing positions, so
 * the reader keeps one ranged GET open from the last position to the end and takes bytes
 * from it; a read elsewhere (a client's Range) drops it and opens a new one there. One
 * request per response, not one per buffer.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { FileReader } from '../../driver.js';
import { mapS3Error, s3Call } from './client.js';
import type { S3Context } from './writer.js';

export function checkRead(length: number, position: number, buffer: Buffer): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`invalid position: ${position}`);
  if (!Number.isSafeInteger(length) || length < 0 || length > buffer.length) throw new RangeError(`invalid length: ${length}`);
}

export class S3FileReader implements FileReader {
  private body: Readable | null = null;
  private pieces: AsyncIterator<Buffer> | null = null;
  /** Position of the next byte the open GET yields. */
  private streamPosition = -1;
  private leftover: Buffer | null = null;
  private closed = false;

  constructor(
    private readonly ctx: S3Context,
    private readonly path: string,
    readonly size: number,
  ) {}

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    checkRead(length, position, buffer);
    if (this.closed) throw new Error('reader is closed');
    if (length === 0 || position >= this.size) return 0;
    if (this.pieces === null || position !== this.streamPosition) await this.openAt(position);
    let got = 0;
    try {
      while (got < length) {
        let piece = this.leftover;
        this.leftover = null;
        if (piece === null) {
          const next = await this.pieces!.next();
          if (next.done) break;
          piece = next.value;
        }
        const taken = Math.min(piece.length, length - got);
        piece.copy(buffer, got, 0, taken);
        got += taken;
        if (taken < piece.length) this.leftover = piece.subarray(taken);
      }
    } catch (err) {
      this.drop();
      throw mapS3Error('GetObject', this.path, err);
    }
    this.streamPosition += got;
    return got;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drop();
  }

  private async openAt(position: number): Promise<void> {
    this.drop();
    const { client, bucket, keys } = this.ctx;
    const got = await s3Call('GetObject', this.path, () =>
      client.send(new GetObjectCommand({ Bucket: bucket, Key: keys.key(this.path), Range: `bytes=${position}-${this.size - 1}` })),
    );
    this.body = got.Body as Readable;
    this.pieces = this.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.streamPosition = position;
  }

  private drop(): void {
    this.body?.destroy();
    this.body = null;
    this.pieces = null;
    this.leftover = null;
  }
}
