/**
 * Synthetic blob content that is unique per blob yet cheap to make and to digest: a shared
 * random block repeated up to the blob's size, then a unique tail. The SHA-256 state after
 * the shared prefix is computed once per size and copied per blob, so digests are known
 * before a measured loop starts and bodies are streamed as views of one buffer.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';

const BLOCK = randomBytes(1024 * 1024);
const TAIL_BYTES = 32;

/** One blob: its size, digest and a way to stream any byte range of it. */
export interface SyntheticBlob {
  size: number;
  digest: string;
  /** The bytes in [start, end) as views of shared buffers (no copies). */
  range(start: number, end: number): Generator<Buffer>;
}

function* prefixSlices(start: number, end: number): Generator<Buffer> {
  let offset = start;
  while (offset < end) {
    const inBlock = offset % BLOCK.length;
    const take = Math.min(BLOCK.length - inBlock, end - offset);
    yield BLOCK.subarray(inBlock, inBlock + take);
    offset += take;
  }
}

/** Makes distinct blobs of one size; blob `id` is the same bytes on every call. */
export class BlobFactory {
  private readonly prefixHash: Hash;
  private readonly prefixSize: number;

  constructor(readonly size: number, private readonly namespace: string) {
    if (size < TAIL_BYTES) throw new RangeError(`blob size must be at least ${TAIL_BYTES} bytes`);
    this.prefixSize = size - TAIL_BYTES;
    this.prefixHash = createHash('sha256');
    for (const slice of prefixSlices(0, this.prefixSize)) this.prefixHash.update(slice);
  }

  /** Blob number `id` of this factory. */
  blob(id: string | number): SyntheticBlob {
    const tail = createHash('sha256').update(`${this.namespace}/${this.size}/${id}`).digest();
    const digest = `sha256:${this.prefixHash.copy().update(tail).digest('hex')}`;
    const prefixSize = this.prefixSize;
    return {
      size: this.size,
      digest,
      *range(start: number, end: number): Generator<Buffer> {
        yield* prefixSlices(start, Math.min(end, prefixSize));
        if (end > prefixSize) yield tail.subarray(Math.max(0, start - prefixSize), end - prefixSize);
      },
    };
  }
}

/** A small blob held in memory (configs, small layers), with its digest. */
export interface SmallBlob {
  bytes: Buffer;
  digest: string;
}

/** Wraps bytes as a SmallBlob. */
export function smallBlob(bytes: Buffer): SmallBlob {
  return { bytes, digest: sha256Digest(bytes) };
}

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Formats a byte count as MiB. */
export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}
