/**
 * One request body onto an upload's data: the validation of Content-Range / Content-Length
 * values and the streaming loop that hashes while it writes. A chunk applies fully or not
 * at all, so uploads.ts can reason in whole requests.
 */
import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DockyardError, fail } from '../../../shared/http/errors.js';
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
 * Bytes gathered before one write. The socket hands over pieces of up to 64 KiB; writing
 * them one by one costs a thread-pool round trip and a syscall each. Much larger batches
 * cost more than they save, though: the kernel's copy into the page cache is the biggest
 * single cost of an upload, and it is cheapest while the bytes just received and hashed
 * are still in the CPU cache. 256 KiB measured best (against writing each piece, 512 KiB and 4 MiB).
 */
const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * A partial batch is written once the sender has paused this long, so the bytes of a slow
 * or stalled sender still reach the disk (and the session's reported offset) promptly.
 */
const IDLE_FLUSH_MS = 20;

/**
 * Streams `body` into `writer`, feeding `hash` with exactly the bytes written. One batched
 * write is in flight while the next batch is received and hashed, so network, hashing and
 * disk overlap; reading waits whenever a second batch is ready (backpressure), so at most
 * two batches per request are held in memory. Throws SIZE_INVALID as soon as the body
 * exceeds `expectedLength`, or at its end when it falls short; body errors propagate as
 * they are. On any failure the caller must truncate the writer back: this function only
 * reports (after the write in flight has settled).
 */
export async function streamChunk(writer: FileWriter, body: Readable, hash: Hash | null, expectedLength?: number): Promise<void> {
  let received = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  /** The write in flight (it never rejects: its error lands in `failure`). */
  let writing: Promise<void> | null = null;
  let failure: { error: unknown } | null = null;
  /** Starts writing the batch; callers make sure no write is running. */
  const startWrite = (): void => {
    if (batchBytes === 0 || failure) return;
    const data = batch;
    batch = [];
    batchBytes = 0;
    writing = writer.writev(data).then(
      () => {
        writing = null;
      },
      (error: unknown) => {
        failure ??= { error };
        writing = null;
      },
    );
  };
  const settle = async (): Promise<void> => {
    while (writing) await writing;
    if (failure) throw failure.error;
  };
  const flush = async (): Promise<void> => {
    await settle();
    startWrite();
  };
  // Runs only while the loop below waits for the body; a running write makes it try later.
  let idleTimer: NodeJS.Timeout | undefined;
  const onIdle = (): void => {
    if (writing) idleTimer?.refresh();
    else startWrite();
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
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
      if (batchBytes > 0) {
        if (idleTimer) idleTimer.refresh();
        else idleTimer = setTimeout(onIdle, IDLE_FLUSH_MS);
      }
    }
    clearTimeout(idleTimer);
    await flush();
    await settle();
  } catch (err) {
    clearTimeout(idleTimer);
    // The caller truncates next: no write of ours may still be running then.
    while (writing) await writing;
    // We stopped reading; a late error from the abandoned body must not crash the process.
    if (!body.destroyed) body.on('error', () => undefined);
    throw err;
  }
  if (expectedLength !== undefined && received !== expectedLength) throw sizeMismatch(expectedLength, received);
}
