/**
 * The start-up check of `config check` for swift: the identity endpoint takes the
 * credentials and the container takes a write. A failure names the setting to fix.
 */
import { randomUUID } from 'node:crypto';
import type { SwiftStorageConfig } from '../../../../../shared/config/index.js';
import { SwiftAuthError } from './auth.js';
import { SwiftDriver } from './index.js';

/** Which `storage.swift` key a failure points at. */
export type SwiftSetting = 'authurl' | 'username' | 'container';

export class SwiftCheckError extends Error {
  constructor(
    readonly setting: SwiftSetting,
    message: string,
  ) {
    super(message);
    this.name = 'SwiftCheckError';
  }
}

/** Resolves when the container is reachable and writable; SwiftCheckError otherwise. */
export async function checkSwiftContainer(config: SwiftStorageConfig): Promise<void> {
  const driver = new SwiftDriver(config);
  const probe = `/config-check/probe-${randomUUID()}`;
  try {
    await driver.ping();
    await driver.putContent(probe, Buffer.from('dockyard config check\n'));
    await driver.delete(probe);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const message = (err as Error).message;
    const setting: SwiftSetting =
      cause instanceof SwiftAuthError && cause.status !== undefined ? 'username' : /does not exist|HTTP 404/.test(message) ? 'container' : 'authurl';
    throw new SwiftCheckError(setting, `cannot write to Swift container ${config.container}: ${message}`);
  } finally {
    await driver.close();
  }
}
