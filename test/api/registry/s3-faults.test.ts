// The store-fault scenarios (store-faults.ts) on the S3 driver against a real Ceph RGW: wrong
// credentials, a missing bucket, an endpoint nobody listens on. Every driver call fails with
// StorageUnavailableError naming the problem, never PathNotFoundError.
import assert from 'node:assert/strict';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import type { S3StorageConfig } from '../../../shared/config/index.js';
import { s3SuiteGate, s3TestConfig, unreachableEndpoint } from '../../support/ceph-rgw.js';
import { describeStoreFaults, readyWithRightSettings, type FaultBackend } from './store-faults.js';

const backend: FaultBackend<S3StorageConfig, S3Driver> = {
  gateName: 'S3 faults',
  title: 'S3 store faults (Ceph RGW)',
  gate: s3SuiteGate,
  goodConfig: () => s3TestConfig(),
  cases: (good) => [
    {
      name: 'wrong credentials',
      config: async () => ({ ...good(), secretKey: 'not-the-secret' }),
      message: /SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied|403/,
    },
    { name: 'a missing bucket', config: async () => ({ ...good(), bucket: `${good().bucket}-missing` }), message: /NoSuchBucket|does not exist/ },
    {
      name: 'an unreachable endpoint',
      config: async () => ({ ...good(), regionEndpoint: await unreachableEndpoint() }),
      message: /ECONNREFUSED|connect/,
    },
  ],
  driver: (config) => new S3Driver(config),
  closeDriver: async (driver) => driver.client.destroy(),
  driverCalls: {
    title: 'driver calls fail with StorageUnavailableError naming the problem, not PathNotFoundError',
    async check(driver, message) {
      for (const call of [() => driver.ping(), () => driver.stat('/blobs/x'), () => driver.getContent('/x'), () => driver.putContent('/x', Buffer.from('x'))]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
          assert.ok(!(err instanceof PathNotFoundError));
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /not-the-secret|dockyardtestsecret/);
          return true;
        });
      }
    },
  },
  afterCases: (good) => readyWithRightSettings(backend, good),
};

await describeStoreFaults(backend);
