/**
 * Blob content that is never held in memory: an AES-128-CTR keystream named by a string,
 * so any byte range of any blob can be produced again on demand (a resumed upload re-sends
 * exactly the bytes after the server's offset) and a 64 MiB layer costs one 1 MiB buffer.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const PIECE = 1024 * 1024;
const ZEROS = Buffer.alloc(PIECE);
const AES_BLOCK = 16;

/** Deterministic pseudo-random bytes of a fixed size, identified by `key`. */
export class SyntheticContent {
  private readonly aesKey: Buffer;
  private cachedDigest: string | undefined;

  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${size}`);
    this.aesKey = createHash('sha256').update(key).digest().subarray(0, 16);
  }

  /** The bytes in [start, end) as a sequence of fresh buffers of at most 1 MiB. */
  *pieces(start = 0, end = this.size): Generator<Buffer> {
    if (start < 0 || end > this.size || start > end) throw new RangeError(`invalid range [${start}, ${end}) of ${this.size}`);
    const iv = Buffer.alloc(16);
    // CTR: the counter block for byte `start` is its block number; skip into the block.
    iv.writeBigUInt64BE(BigInt(Math.floor(start / AES_BLOCK)), 8);
    const cipher = createCipheriv('aes-128-ctr', this.aesKey, iv);
    let skip = start % AES_BLOCK;
    let position = start;
    while (position < end) {
      const take = Math.min(PIECE, end - position + skip);
      const out = cipher.update(ZEROS.subarray(0, take)).subarray(skip);
      skip = 0;
      position += out.length;
      yield out;
    }
  }

  /** A stream of the bytes in [start, end). */
  stream(start = 0, end = this.size): Readable {
    return Readable.from(this.pieces(start, end), { objectMode: false });
  }

  /** `sha256:<hex>` of the whole content, computed once by streaming it. */
  digest(): string {
    if (this.cachedDigest === undefined) {
      const hash = createHash('sha256');
      for (const piece of this.pieces()) hash.update(piece);
      this.cachedDigest = `sha256:${hash.digest('hex')}`;
    }
    return this.cachedDigest;
  }
}

/** `sha256:<hex>` of bytes in memory (manifests, small configs). */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
