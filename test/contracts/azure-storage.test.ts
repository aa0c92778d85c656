// The storage contract on Azurite (test/support/azurite.ts, started by this file): a new
// container per test, under a root directory, as a shared container would be used, with
// small blocks so that chunked writes span several of them. Without Azurite this fails
// under CI and is skipped (with the reason) elsewhere.
import { AzureDriver } from '../../services/registry/storage/drivers/azure/index.js';
import { azuriteSuiteGate, azureTestConfig } from '../support/azurite.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

if (await azuriteSuiteGate('StorageDriver contract: azure')) {
  runStorageDriverContract('azure', async () => {
    const driver = new AzureDriver(await azureTestConfig({ rootDirectory: '/registry/root' }), 1024 * 1024);
    return { driver, cleanup: async () => {} };
  });
}
