import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemDriver } from '../../services/registry/storage/drivers/filesystem.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

runStorageDriverContract('filesystem', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'dockyard-fs-contract-'));
  // A root that does not exist yet: the driver must create it on first write.
  const driver = new FilesystemDriver(join(parent, 'root'));
  return { driver, cleanup: () => rm(parent, { recursive: true, force: true }) };
});
