/**
 * Positional reads of a large S3 object that bypass the SDK's response stream: a presigned
 * GetObject URL (signed by the driver's own client and credentials) fetched by
 * object-store/direct-get.ts, which reads the socket into the caller's buffers. This is
 * the proxied blob pull's path; it took the registry's CPU per 256 MiB pull from about
 * 1 s to a fraction of that (docs/performance.md). Like the ranged reader, one download
 * stays open from the last position to the end; a read elsewhere opens another.
 *
 * The SDK's guarantees are kept here: the connect and idle timeouts of client.ts, up to
 * MAX_ATTEMPTS attempts with backoff for connection failures, 5xx, 429 and a download cut
 * short (resumed at the byte where it stopped), and failures in the driver's terms
 * (PathNotFoundError, StorageUnavailableError).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PathNotFoundError, StorageUnavailableError, type FileReader } from '../../driver.js';
import { directGet, HttpStatusError, type DirectResponse } from '../object-store/direct-get.js';
import { checkRead } from '../object-store/ranged-reader.js';
import { CONNECT_TIMEOUT_MS, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from './client.js';
import type { S3Context } from './writer.js';

/** A presigned URL outlives any retry sequence; it is signed again for every download. */
const URL_SECONDS = 15 * 60;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/** Retrying helps with transport failures and the store's own trouble, not with a refusal. */
function retryable(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 429 || err.status === 408;
  return !(err instanceof PathNotFoundError) && !(err instanceof StorageUnavailableError);
}

/** S3's error code from an error response body (`<Code>NoSuchKey</Code>`). */
function errorCode(err: HttpStatusError): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(err.body)?.[1];
}

export class S3DirectReader implements FileReader {
  private download: DirectResponse | null = null;
  /** Position of the next byte the open download yields. */
  private downloadPosition = -1;
  private closed = false;

  constructor(
    private readonly ctx: S3Context,
    private readonly path: string,
    readonly size: number,
    private readonly rejectUnauthorized: boolean,
  ) {}

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    checkRead(length, position, buffer);
    if (this.closed) throw new Error('reader is closed');
    const want = Math.min(length, Math.max(0, this.size - position));
    let got = 0;
    let failures = 0;
    while (got < want) {
      try {
        if (this.download === null || this.downloadPosition !== position + got) await this.openAt(position + got);
        const n = await this.download!.read(buffer, got, want - got);
        // The object is shorter than its recorded size; the caller names that damage.
        if (n === 0) break;
        got += n;
        this.downloadPosition += n;
        failures = 0;
      } catch (err) {
        this.drop();
        failures += 1;
        if (this.closed || failures >= MAX_ATTEMPTS || !retryable(err)) throw this.mapError(err);
        const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** failures);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
    return got;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drop();
  }

  private async openAt(position: number): Promise<void> {
    this.drop();
    const { client, bucket, keys } = this.ctx;
    const url = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: keys.key(this.path) }), { expiresIn: URL_SECONDS }));
    const download = await directGet(url, {
      headers: { Range: `bytes=${position}-${this.size - 1}` },
      rejectUnauthorized: this.rejectUnauthorized,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      idleTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    // A store that ignores Range answers 200 with the whole object: usable only from 0.
    const range = download.headers.get('content-range') ?? '';
    const expected = this.size - position;
    const startsRight = download.status === 206 ? range.startsWith(`bytes ${position}-`) : position === 0;
    if (!startsRight || download.length !== expected) {
      download.destroy();
      throw new StorageUnavailableError(
        `S3 GetObject of ${this.path} answered ${download.status} with ${download.length} bytes (${range || 'no Content-Range'}) for ${expected} bytes from ${position}`,
      );
    }
    this.download = download;
    this.downloadPosition = position;
  }

  private drop(): void {
    this.download?.destroy();
    this.download = null;
  }

  private mapError(err: unknown): Error {
    if (err instanceof PathNotFoundError || err instanceof StorageUnavailableError) return err;
    if (err instanceof HttpStatusError && err.status === 404 && errorCode(err) !== 'NoSuchBucket') return new PathNotFoundError(this.path);
    const what = err instanceof HttpStatusError ? `${errorCode(err) ?? 'Error'} (HTTP ${err.status})` : String((err as Error)?.message ?? err);
    return new StorageUnavailableError(`S3 GetObject failed: ${what}`, { cause: err });
  }
}
