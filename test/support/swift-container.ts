/** What a test container holds (to check nothing is left behind), read through the driver's own client. */
import { listNames } from '../../services/registry/storage/drivers/swift/segments.js';
import type { SwiftDriver } from '../../services/registry/storage/drivers/swift/index.js';

export async function containerNames(driver: SwiftDriver, prefix = ''): Promise<string[]> {
  return (await listNames(driver.client, '/', prefix)).sort();
}
