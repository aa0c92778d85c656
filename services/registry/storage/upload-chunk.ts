/**
 * One request body onto an upload's data: the validation of Content-Range / Content-Length
 * values and the streaming loop that hashes while it writes. A chunk applies fully or not
 * at all, so uploads.ts can reason in whole requests.
 */
import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DockyardError, fail } from '../../../shared/errors.js';
import type { FileWriter } from './driver.js';

/** Where a request body sits in the upload, from Content-Range / Content-Length. */
export interface ChunkOptions {
  start?: number;
  length?: number;
}

/** Rejects start/length values no header parser should have produced. */
export function checkChunkOptions(opts: ChunkOptions): void {
  if (opts.start !== undefined && (!Number.isSafeInteger(opts.start) || opts.start < 0)) {
    throw fail('RANGE_INVALID', 'invalid content range start');
  }
  if (opts.length !== undefined && (!Number.isSafeInteger(opts.length) || opts.length < 0)) {
    throw fail('SIZE_INVALID', 'invalid content length');
  }
}

/** The 416 a client gets for a chunk that does not start at the offset (CNCF distribution's headers). */
export function rangeMismatch(id: string, offset: number, start: number): DockyardError {
  return new DockyardError('RANGE_INVALID', `upload is at offset ${offset}, chunk starts at ${start}`, {
    status: 416,
    // `0-0` for an empty upload, as distribution sends: there is no valid empty range.
    headers: { Range: `0-${Math.max(0, offset - 1)}`, 'Docker-Upload-UUID': id },
    detail: { offset },
  });
}

/** Body chunks are Buffers unless someone set an encoding; accept both. */
function toBuffer(piece: unknown): Buffer {
  if (Buffer.isBuffer(piece)) return piece;
  if (typeof piece === 'string') return Buffer.from(piece);
  if (piece instanceof Uint8Array) return Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  throw new TypeError('request body yielded a non-byte chunk');
}

function sizeMismatch(expected: number, received: number | null): DockyardError {
  const message = received === null
    ? `request body is longer than the declared ${expected} bytes`
    : `request body has ${received} bytes, declared ${expected}`;
  return fail('SIZE_INVALID', message, received === null ? { expected } : { expected, received });
}

/**
 * Most bytes gathered for one write. The socket hands over 16-64 KiB pieces; writing them
 * one by one costs a syscall and an event-loop round trip each. Pieces are gathered only
 * while more are already buffered, so a slow sender's bytes still reach the disk at once.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Streams `body` into `writer`, feeding `hash` with exactly the bytes written. One batched
 * write is in flight while the next batch is received and hashed, so network, hashing and
 * disk overlap; reading waits whenever a second batch is ready (backpressure). Throws
 * SIZE_INVALID as soon as the body exceeds `expectedLength`, or at its end when it falls
 * short; body errors propagate as they are. On any failure the caller must truncate the
 * writer back: this function only reports (after the write in flight has settled).
 */
export async function streamChunk(writer: FileWriter, body: Readable, hash: Hash | null, expectedLength?: number): Promise<void> {
  let received = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let inFlight: Promise<void> | null = null;
  const flush = async (): Promise<void> => {
    if (inFlight) await inFlight;
    inFlight = null;
    if (batchBytes === 0) return;
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    inFlight = writer.write(data);
    // Observed here so a failing write never counts as unhandled while the next batch fills;
    // the error itself surfaces from the next flush.
    inFlight.catch(() => undefined);
  };
  try {
    // destroyOnReturn false: stopping early on a lying length must not reset the client's
    // connection; the HTTP layer still answers with SIZE_INVALID.
    for await (const piece of body.iterator({ destroyOnReturn: false })) {
      const chunk = toBuffer(piece);
      received += chunk.length;
      if (expectedLength !== undefined && received > expectedLength) throw sizeMismatch(expectedLength, null);
      hash?.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      // Nothing more buffered: write what we have rather than wait for the network with it.
      if (batchBytes >= WRITE_BATCH_BYTES || body.readableLength === 0) await flush();
    }
    await flush();
    if (inFlight) await inFlight;
  } catch (err) {
    // The caller truncates next: no write of ours may still be running then.
    if (inFlight) await (inFlight as Promise<void>).catch(() => undefined);
    // We stopped reading; a late error from the abandoned body must not crash the process.
    if (!body.destroyed) body.on('error', () => undefined);
    throw err;
  }
  if (expectedLength !== undefined && received !== expectedLength) throw sizeMismatch(expectedLength, received);
}
