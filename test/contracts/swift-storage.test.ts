// The storage contract on the Swift API of a real Ceph RGW (test/support/ceph-rgw.ts): a new
// container per test, under a prefix, with the smallest segment size so that writers make
// static large objects of several segments. Without an RGW this fails under CI and is
// skipped (with the reason) elsewhere.
import { SwiftDriver } from '../../services/registry/storage/drivers/swift/index.js';
import { swiftSuiteGate, swiftTestConfig } from '../support/ceph-rgw.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

if (await swiftSuiteGate('StorageDriver contract: swift')) {
  runStorageDriverContract('swift', async () => {
    const driver = new SwiftDriver(await swiftTestConfig({ prefix: '/registry/root' }));
    return { driver, cleanup: async () => driver.close() };
  });
}
