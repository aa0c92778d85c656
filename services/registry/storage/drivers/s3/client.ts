/**
 * The S3 client as the driver uses it, built from `storage.s3` the way CNCF distribution
 * reads those keys, and the one mapping of SDK failures to the driver's typed errors.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3StorageConfig } from '../../../../../shared/config/index.js';
import { InvalidPathError, PathNotFoundError, StorageUnavailableError } from '../../driver.js';

/** Connecting must succeed within this; a stalled endpoint fails fast instead of hanging a request. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** A socket idle this long (no byte either way) fails the attempt, which is then retried. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** Attempts per call (the SDK's standard retry: exponential backoff, throttling aware). */
export const MAX_ATTEMPTS = 4;
/** Sockets per host: part uploads and blob reads of many concurrent requests share them. */
const MAX_SOCKETS = 64;

/** The endpoint URL: regionendpoint as given (a bare host gets the scheme `secure` picks). */
export function endpointOf(config: S3StorageConfig): string | undefined {
  if (config.regionEndpoint === undefined) return undefined;
  if (/^https?:\/\//i.test(config.regionEndpoint)) return config.regionEndpoint;
  return `${config.secure ? 'https' : 'http'}://${config.regionEndpoint}`;
}

/**
 * Multi-object deletes carry Content-MD5, as they did before the SDK's flexible checksums
 * (and as CNCF distribution keeps doing): Alibaba OSS and older S3-compatible stores
 * refuse a DeleteObjects without it. Added before signing, on the serialized body.
 */
function addDeleteObjectsContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'dockyardDeleteObjectsContentMd5' },
  );
}

export function createS3Client(config: S3StorageConfig): S3Client {
  const credentials =
    config.accessKey !== undefined && config.secretKey !== undefined
      ? { accessKeyId: config.accessKey, secretAccessKey: config.secretKey }
      : undefined; // undefined: the SDK's standard chain (environment, profile, web identity, instance role)
  const client = new S3Client({
    region: config.region,
    endpoint: endpointOf(config),
    forcePathStyle: config.forcePathStyle,
    tls: config.secure,
    credentials,
    // S3-compatible stores (Ceph RGW, Google Cloud Storage, Alibaba OSS) refuse the newer
    // default checksums (RGW: 411 MissingContentLength on streamed bodies); unless told
    // otherwise, send them only where S3 requires them.
    requestChecksumCalculation: config.requestChecksumCalculation === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Without it the SDK only logs a warning and the stalled request hangs on (seen in the
      // S3 bench: a PUT stuck 300 s on a busy RGW).
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS, rejectUnauthorized: !config.skipVerify }),
    },
  });
  addDeleteObjectsContentMd5(client);
  return client;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** True for "no such object" answers (GetObject says NoSuchKey, HeadObject only 404). */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkError | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (e?.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket');
}

/** What went wrong, in words an operator can act on (never the credentials themselves). */
export function describeS3Error(err: unknown): string {
  const e = err as SdkError | null;
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(err)}`;
}

/**
 * Runs one S3 call: a missing object becomes PathNotFoundError(path), anything else
 * (endpoint down after the retries, credentials refused, no bucket) StorageUnavailableError.
 */
export async function s3Call<T>(operation: string, path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapS3Error(operation, path, err);
  }
}

export function mapS3Error(operation: string, path: string, err: unknown): Error {
  if (err instanceof PathNotFoundError || err instanceof InvalidPathError || err instanceof StorageUnavailableError || err instanceof RangeError) {
    return err;
  }
  if (isNotFound(err)) return new PathNotFoundError(path);
  return new StorageUnavailableError(`S3 ${operation} failed: ${describeS3Error(err)}`, { cause: err });
}
