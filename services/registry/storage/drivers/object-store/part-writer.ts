/**
 * The buffering and pipelining shared by the object-store writers (S3 parts, Azure blocks,
 * Swift segments). Appends fill one buffer of a part's size; a full buffer goes up in the
 * background while the next fills, so memory stays at two parts per writer whatever the
 * object's size. A background upload never rejects: its error lands in `failure` and the
 * next settle() rethrows it. What a part is, how it is sent, committed, suspended and
 * truncated stays in each driver.
 */
export abstract class PartWriter<F extends { error: unknown } = { error: unknown }> {
  /** The part being filled; allocated on the first byte, so a request that writes nothing costs nothing. */
  protected buffer: Buffer | null = null;
  protected filled = 0;
  /** The part upload in flight (never rejects: its error lands in `failure`). */
  protected inflight: Promise<void> | null = null;
  protected failure: F | null = null;
  protected closed = false;
  protected dirty = false;

  /** Bytes per part. */
  protected abstract get partSize(): number;

  /** Sends the full buffer as the next part (through background()). */
  protected abstract sendBuffer(): Promise<void>;

  async write(chunk: Buffer): Promise<void> {
    this.assertOpen();
    if (chunk.length === 0) return;
    this.dirty = true;
    let offset = 0;
    while (offset < chunk.length) {
      const buffer = (this.buffer ??= Buffer.allocUnsafeSlow(this.partSize));
      const taken = Math.min(chunk.length - offset, buffer.length - this.filled);
      chunk.copy(buffer, this.filled, offset, offset + taken);
      this.filled += taken;
      offset += taken;
      if (this.filled === buffer.length) await this.sendBuffer();
    }
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    for (const chunk of chunks) await this.write(chunk);
  }

  /** Runs a part upload in the background; `failed` makes the failure recorded for settle(). */
  protected background<T>(upload: Promise<T>, done: (result: T) => void, failed: (error: unknown) => F): void {
    this.inflight = upload.then(
      (result) => {
        done(result);
        this.inflight = null;
      },
      (error: unknown) => {
        this.failure ??= failed(error);
        this.inflight = null;
      },
    );
  }

  /** Waits for the part in flight; rethrows a part upload's failure. */
  protected async settle(): Promise<void> {
    while (this.inflight) await this.inflight;
    if (this.failure) throw this.failure.error;
  }

  protected fill(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const buffer = (this.buffer ??= Buffer.allocUnsafeSlow(this.partSize));
    bytes.copy(buffer, this.filled);
    this.filled += bytes.length;
  }

  /** The bytes waiting for the next part. */
  protected pending(): Buffer {
    return this.buffer ? this.buffer.subarray(0, this.filled) : Buffer.alloc(0);
  }

  protected assertOpen(): void {
    if (this.closed) throw new Error('writer is closed');
  }
}
