/**
 * Positional reads of a blob. A blob is served by reads at increasing positions, so the
 * reader keeps one ranged download open from the last position to the end and takes bytes
 * from it; a read elsewhere (a client's Range) drops it and opens a new one there. One
 * request per response, not one per buffer. The SDK resumes a download that breaks
 * midway from where it stopped (maxRetryRequests).
 */
import type { Readable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { FileReader } from '../../driver.js';
import { azureCall, mapAzureError } from './client.js';

/** Times a broken download stream is resumed from where it stopped. */
export const DOWNLOAD_RESUMES = 3;

export class AzureFileReader implements FileReader {
  private body: Readable | null = null;
  private pieces: AsyncIterator<Buffer> | null = null;
  /** Position of the next byte the open download yields. */
  private streamPosition = -1;
  private leftover: Buffer | null = null;
  private closed = false;

  constructor(
    private readonly blob: BlockBlobClient,
    private readonly path: string,
    readonly size: number,
  ) {}

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`invalid position: ${position}`);
    if (!Number.isSafeInteger(length) || length < 0 || length > buffer.length) throw new RangeError(`invalid length: ${length}`);
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
      throw mapAzureError('Download', this.path, err);
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
    const got = await azureCall('Download', this.path, () =>
      this.blob.download(position, this.size - position, { maxRetryRequests: DOWNLOAD_RESUMES }),
    );
    this.body = got.readableStreamBody as Readable;
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
