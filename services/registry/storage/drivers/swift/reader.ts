/**
 * Positional reads of a Swift object, as the S3 reader does them: one ranged GET kept open
 * from the last position to the end, a read elsewhere opens a new one there.
 */
import type { Readable } from 'node:stream';
import type { FileReader } from '../../driver.js';
import { checkRead } from '../s3/reader.js';
import { unavailable } from './client.js';
import type { SwiftContext } from './writer.js';

export class SwiftFileReader implements FileReader {
  private body: Readable | null = null;
  private pieces: AsyncIterator<Buffer> | null = null;
  private streamPosition = -1;
  private leftover: Buffer | null = null;
  private closed = false;

  constructor(
    private readonly ctx: SwiftContext,
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
      throw unavailable('GET', this.path, err);
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
    const response = await this.ctx.client.ok('GET', this.path, {
      method: 'GET',
      object: this.ctx.key(this.path),
      headers: { range: `bytes=${position}-${this.size - 1}` },
    });
    this.body = response.body;
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
