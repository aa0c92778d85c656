/**
 * The start-up check of `config check`: the bucket answers to the configured credentials
 * and takes a write. A failure names the setting an operator has to fix.
 */
import { randomUUID } from 'node:crypto';
import type { S3StorageConfig } from '../../../../../shared/config/index.js';
import { describeS3Error } from './client.js';
import { S3Driver } from './index.js';

/** Which `storage.s3` key a failure points at. */
export type S3Setting = 'regionendpoint' | 'accesskey' | 'bucket';

export class S3CheckError extends Error {
  constructor(
    readonly setting: S3Setting,
    message: string,
  ) {
    super(message);
    this.name = 'S3CheckError';
  }
}

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'CredentialsProviderError', 'ExpiredToken', 'InvalidToken']);

function settingAtFault(err: unknown): S3Setting {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchBucket' || e?.name === 'NotFound' || status === 404) return 'bucket';
  if ((e?.name !== undefined && CREDENTIAL_ERRORS.has(e.name)) || status === 403 || status === 401) return 'accesskey';
  return 'regionendpoint';
}

/** Resolves when the bucket is reachable and writable; S3CheckError otherwise. */
export async function checkS3Bucket(config: S3StorageConfig): Promise<void> {
  const driver = new S3Driver(config);
  const probe = `/config-check/probe-${randomUUID()}`;
  try {
    await driver.putContent(probe, Buffer.from('dockyard config check\n'));
    await driver.delete(probe);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    const setting = settingAtFault(cause);
    const what =
      setting === 'bucket'
        ? `bucket ${config.bucket} does not exist`
        : setting === 'accesskey'
          ? 'the credentials were refused'
          : 'the endpoint did not answer';
    throw new S3CheckError(setting, `cannot write to S3 bucket ${config.bucket}: ${what} (${describeS3Error(cause)})`);
  } finally {
    driver.client.destroy();
  }
}
