/**
 * The container client as the driver uses it, built from `storage.azure` the way CNCF
 * distribution reads those keys (Shared Key authorization with the account key), and the
 * one mapping of SDK failures to the driver's typed errors.
 */
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { AzureStorageConfig } from '../../../../../shared/config/index.js';
import { InvalidPathError, PathNotFoundError, StorageUnavailableError } from '../../driver.js';

/**
 * One try (request sent, response headers back) must finish within this; a stalled endpoint
 * fails the try, which is retried. Streamed response bodies are not cut by it.
 */
const TRY_TIMEOUT_MS = 60_000;
/** Tries per call (the SDK's exponential retry on timeouts, 5xx, 408 and throttling). */
const MAX_TRIES = 4;
const RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 4_000;

export interface AzureClients {
  container: ContainerClient;
  /** Signs SAS URLs (redirects). */
  credential: StorageSharedKeyCredential;
}

export function createAzureClients(config: AzureStorageConfig): AzureClients {
  const credential = new StorageSharedKeyCredential(config.accountName, config.accountKey);
  const service = new BlobServiceClient(config.serviceUrl, credential, {
    retryOptions: { maxTries: MAX_TRIES, tryTimeoutInMs: TRY_TIMEOUT_MS, retryDelayInMs: RETRY_DELAY_MS, maxRetryDelayInMs: MAX_RETRY_DELAY_MS },
    keepAliveOptions: { enable: true },
  });
  return { container: service.getContainerClient(config.container), credential };
}

/** What the driver keeps of an SDK failure: enough to classify and explain it, nothing of the request. */
export interface AzureFailure {
  statusCode?: number;
  code?: string;
  message: string;
}

export function failureOf(err: unknown): AzureFailure {
  const e = err as { statusCode?: number; code?: string; message?: string; details?: { errorCode?: string } } | null;
  return { statusCode: e?.statusCode, code: e?.code ?? e?.details?.errorCode, message: e?.message?.split('\n')[0] ?? String(err) };
}

/** True for "no such blob" (HEAD answers a bare 404; a missing container is not a missing blob). */
export function isBlobNotFound(err: unknown): boolean {
  const { statusCode, code } = failureOf(err);
  return statusCode === 404 && code !== 'ContainerNotFound';
}

/** What went wrong, in words an operator can act on (never credentials or signatures). */
export function describeAzureError(failure: AzureFailure): string {
  const status = failure.statusCode ? ` (HTTP ${failure.statusCode})` : '';
  return `${failure.code ?? 'Error'}${status}: ${failure.message}`;
}

/**
 * Runs one Azure call: a missing blob becomes PathNotFoundError(path), anything else
 * (endpoint down after the retries, key refused, no container) StorageUnavailableError,
 * whose cause is the failure's summary rather than the SDK error (which holds the request).
 */
export async function azureCall<T>(operation: string, path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapAzureError(operation, path, err);
  }
}

export function mapAzureError(operation: string, path: string, err: unknown): Error {
  if (err instanceof PathNotFoundError || err instanceof InvalidPathError || err instanceof StorageUnavailableError || err instanceof RangeError) {
    return err;
  }
  if (isBlobNotFound(err)) return new PathNotFoundError(path);
  const failure = failureOf(err);
  return new StorageUnavailableError(`Azure ${operation} failed: ${describeAzureError(failure)}`, { cause: failure });
}
