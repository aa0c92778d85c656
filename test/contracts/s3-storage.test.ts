// The storage contract on a real Ceph RGW (test/support/ceph-rgw.ts): a new bucket per
// test, under a root directory, as a shared bucket would be used. Without an RGW this
// fails under CI and is skipped (with the reason) elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Driver } from '../../services/registry/storage/drivers/s3/index.js';
import { rgwUnavailable, s3TestConfig } from '../support/ceph-rgw.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

const unavailable = await rgwUnavailable();
if (unavailable === null) {
  runStorageDriverContract('s3', async () => {
    const driver = new S3Driver(await s3TestConfig({ rootDirectory: '/registry/root' }));
    return { driver, cleanup: async () => driver.client.destroy() };
  });
} else if (process.env.CI) {
  test('Ceph RGW is reachable for the S3 storage contract', () => {
    assert.fail(`no S3 server under CI: ${unavailable}`);
  });
} else {
  test('StorageDriver contract: s3', { skip: `${unavailable}; set CI=1 to make this a failure` }, () => {});
}
