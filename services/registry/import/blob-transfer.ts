/**
 * One blob from a registry:2 store into the StorageDriver's content-addressed place,
 * verified: its bytes are hashed as they stream (never held whole in memory), and only
 * bytes whose digest matches ever reach /blobs. Where the driver keeps local files on the
 * same file system, the verified file is hard-linked instead of copied (read once, written
 * never); otherwise it is copied into an import scratch file, hashed on the way, and moved
 * into place. A blob already in place was verified when it got there (by a push or an
 * earlier run), so it is not read again: that is what makes a rerun cheap.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Digest } from '../../../shared/grammar/reference.js';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.js';
import { blobDataPath } from '../storage/paths.js';

/** How a blob came to be in place, or why it is not. */
export type BlobOutcome =
  | { state: 'present' | 'linked' | 'copied'; size: number }
  | { state: 'missing' | 'corrupt'; reason: string };

async function existingSize(driver: StorageDriver, digest: Digest): Promise<number | undefined> {
  try {
    return (await driver.stat(blobDataPath(digest))).size;
  } catch (err) {
    if (err instanceof PathNotFoundError) return undefined;
    throw err;
  }
}

/** Streams `file` through a hash of `digest`'s algorithm, handing each chunk to `each`. */
async function hashFile(file: string, digest: Digest, each?: (chunk: Buffer) => Promise<void>): Promise<{ hex: string; size: number }> {
  const hash = createHash(digest.algorithm);
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (each) await each(chunk);
  }
  return { hex: hash.digest('hex'), size };
}

function mismatch(digest: Digest, hex: string): BlobOutcome {
  return { state: 'corrupt', reason: `content hashes to ${digest.algorithm}:${hex}, not ${digest.value}` };
}

/** Copies through a scratch object: hashed while written, moved into place only when it matches. */
async function copyVerified(driver: StorageDriver, file: string, digest: Digest, scratch: string): Promise<BlobOutcome> {
  const writer = await driver.writer(scratch, false);
  let result: { hex: string; size: number };
  try {
    result = await hashFile(file, digest, (chunk) => writer.write(chunk));
  } catch (err) {
    await writer.cancel();
    throw err;
  }
  if (result.hex !== digest.encoded) {
    await writer.cancel();
    return mismatch(digest, result.hex);
  }
  await writer.commit({ name: false });
  await driver.move(scratch, blobDataPath(digest));
  return { state: 'copied', size: result.size };
}

/** Brings the blob at `file` into `driver` as `digest`, verified. */
export async function transferBlob(driver: StorageDriver, file: string, digest: Digest, scratchDir: string): Promise<BlobOutcome> {
  const present = await existingSize(driver, digest);
  if (present !== undefined) return { state: 'present', size: present };
  try {
    await stat(file);
  } catch (err) {
    return { state: 'missing', reason: `${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}` };
  }
  const scratch = `${scratchDir}/${randomBytes(8).toString('hex')}`;
  // Linked into scratch first and verified there: a corrupt file never gets a name under /blobs.
  if (driver.linkFile && (await driver.linkFile(file, scratch))) {
    const { hex, size } = await hashFile(file, digest);
    if (hex !== digest.encoded) {
      await driver.delete(scratch);
      return mismatch(digest, hex);
    }
    await driver.move(scratch, blobDataPath(digest));
    return { state: 'linked', size };
  }
  return copyVerified(driver, file, digest, scratch);
}
