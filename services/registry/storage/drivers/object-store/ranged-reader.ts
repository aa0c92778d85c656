/**
 * Positional reads shared by the object-store drivers (S3, Azure, Swift). A blob is served
 * by reads at increasing positions, so the reader keeps one ranged download open from the
 * last position to the end and takes bytes from it; a read elsewhere (a client's Range)
 * drops it and opens a new one there. One request per response, not one per buffer. Each
 * driver supplies only how to open a ranged download of its store and how to name a
 * failure of that download's stream in its own error terms.
 */
import type { Readable } from 'node:stream';
import type { FileReader } from '../../driver.js';

export function checkRead(length: number, position: number, buffer: Buffer): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`invalid position: ${position}`);
  if (!Number.isSafeInteger(length) || length < 0 || length > buffer.length) throw new RangeError(`invalid length: ${length}`);
}

/** Opens a download of the object from `position` to its end (errors already in driver terms). */
export type OpenRange = (position: number, size: number) => Promise<Readable>;

export class RangedReader implements FileReader {
  private body: Readable | null = null;
  private pieces: AsyncIterator<Buffer> | null = null;
  /** Position of the next byte the open download yields. */
  private streamPosition = -1;
  private leftover: Buffer | null = null;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly openRange: OpenRange,
    /** Maps a failure while the open download streams. */
    private readonly broken: (err: unknown) => Error,
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
      throw this.broken(err);
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
    this.body = await this.openRange(position, this.size);
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
