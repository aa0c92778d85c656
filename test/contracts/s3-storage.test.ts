// The storage contract on a real Ceph RGW (test/support/ceph-rgw.ts): a new bucket per
// test, under a root directory, as a shared bucket would be used. Without an RGW this
// fails under CI and is skipped (with the reason) elsewhere. Every openReader takes the
// direct GET path (s3/direct-reader.ts), which production uses from 1 MiB on; smaller
// objects' SDK path is what the virtual-host variant (s3-compatible-storage) runs.
import { S3Driver } from '../../services/registry/storage/drivers/s3/index.js';
import { s3SuiteGate, s3TestConfig } from '../support/ceph-rgw.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

if (await s3SuiteGate('StorageDriver contract: s3')) {
  runStorageDriverContract('s3', async () => {
    const driver = new S3Driver(await s3TestConfig({ rootDirectory: '/registry/root' }), undefined, 0);
    return { driver, cleanup: async () => driver.client.destroy() };
  });
}
