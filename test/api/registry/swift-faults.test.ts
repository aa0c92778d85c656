// The store-fault scenarios (store-faults.ts) on the Swift driver against the Swift API of a
// real Ceph RGW: a wrong password, a missing container, an identity endpoint nobody listens
// on. Ping names the problem; no call passes for a missing path.
import assert from 'node:assert/strict';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { SwiftDriver } from '../../../services/registry/storage/drivers/swift/index.js';
import type { SwiftStorageConfig } from '../../../shared/config/index.js';
import { swiftSuiteGate, swiftTestConfig, unreachableEndpoint } from '../../support/ceph-rgw.js';
import { describeStoreFaults, readyWithRightSettings, type FaultBackend } from './store-faults.js';

const backend: FaultBackend<SwiftStorageConfig, SwiftDriver> = {
  gateName: 'Swift faults',
  title: 'Swift store faults (Ceph RGW)',
  gate: swiftSuiteGate,
  goodConfig: () => swiftTestConfig(),
  cases: (good) => [
    { name: 'a wrong password', config: async () => ({ ...good(), password: 'not-the-key' }), message: /credentials refused \(HTTP 401\)/ },
    { name: 'a missing container', config: async () => ({ ...good(), container: `${good().container}-missing` }), message: /does not exist|HTTP 404/ },
    { name: 'an unreachable identity endpoint', config: async () => ({ ...good(), authUrl: `${await unreachableEndpoint()}/auth/1.0` }), message: /ECONNREFUSED|connect/ },
  ],
  driver: (config) => new SwiftDriver(config),
  closeDriver: (driver) => driver.close(),
  driverCalls: {
    title: 'ping fails with StorageUnavailableError naming the problem, and no call passes for a missing path',
    async check(driver, message) {
      await assert.rejects(driver.ping(), (err: unknown) => {
        assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /not-the-key|dockyardtestswift/);
        return true;
      });
      for (const call of [() => driver.putContent('/x', Buffer.from('x')), () => driver.list('/')]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
          assert.ok(!(err instanceof PathNotFoundError));
          return true;
        });
      }
    },
  },
  afterCases: (good) => readyWithRightSettings(backend, good),
};

await describeStoreFaults(backend);
