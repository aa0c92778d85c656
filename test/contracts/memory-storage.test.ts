import { MemoryDriver } from '../../services/registry/storage/drivers/memory.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

runStorageDriverContract('memory', async () => ({ driver: new MemoryDriver(), cleanup: async () => {} }));
