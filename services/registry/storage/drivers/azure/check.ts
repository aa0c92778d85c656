/**
 * The start-up check of `config check`: the container answers to the configured key and
 * takes a write. A failure names the setting an operator has to fix.
 */
import { randomUUID } from 'node:crypto';
import type { AzureStorageConfig } from '../../../../../shared/config/index.js';
import { describeAzureError, failureOf, type AzureFailure } from './client.js';
import { AzureDriver } from './index.js';

/** Which `storage.azure` key a failure points at. */
export type AzureSetting = 'serviceurl' | 'accountkey' | 'container';

export class AzureCheckError extends Error {
  constructor(
    readonly setting: AzureSetting,
    message: string,
  ) {
    super(message);
    this.name = 'AzureCheckError';
  }
}

const CREDENTIAL_ERRORS = new Set(['AuthenticationFailed', 'AuthorizationFailure', 'InvalidAuthenticationInfo', 'AccountIsDisabled']);

function settingAtFault(failure: AzureFailure): AzureSetting {
  if (failure.code === 'ContainerNotFound' || failure.statusCode === 404) return 'container';
  if ((failure.code !== undefined && CREDENTIAL_ERRORS.has(failure.code)) || failure.statusCode === 403 || failure.statusCode === 401) return 'accountkey';
  return 'serviceurl';
}

/** Resolves when the container is reachable and writable; AzureCheckError otherwise. */
export async function checkAzureContainer(config: AzureStorageConfig): Promise<void> {
  const driver = new AzureDriver(config);
  const probe = `/config-check/probe-${randomUUID()}`;
  try {
    await driver.putContent(probe, Buffer.from('dockyard config check\n'));
    await driver.delete(probe);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const failure = cause && typeof cause === 'object' && 'message' in cause ? (cause as AzureFailure) : failureOf(err);
    const setting = settingAtFault(failure);
    const what =
      setting === 'container'
        ? `container ${config.container} does not exist`
        : setting === 'accountkey'
          ? `the account key of ${config.accountName} was refused`
          : `the endpoint ${config.serviceUrl} did not answer`;
    throw new AzureCheckError(setting, `cannot write to Azure container ${config.container}: ${what} (${describeAzureError(failure)})`);
  }
}
