// The Swift driver when the store is wrong or gone, against the Swift API of a real Ceph
// RGW: a wrong password, a missing container, an identity endpoint nobody listens on.
// Driver calls fail with StorageUnavailableError naming the problem; the registry answers
// JSON 503 UNAVAILABLE (never a 500) and /readyz reports the store unavailable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { SwiftDriver } from '../../../services/registry/storage/drivers/swift/index.js';
import type { SwiftStorageConfig } from '../../../shared/config/index.js';
import { swiftSuiteGate, swiftTestConfig, unreachableEndpoint } from '../../support/ceph-rgw.js';
import { digestOf, expectError, startTestRegistry, type TestRegistry } from './harness.js';

if (await swiftSuiteGate('Swift faults')) {
  describe('Swift store faults (Ceph RGW)', () => {
    let good: SwiftStorageConfig;
    const cases: Array<{ name: string; config: () => Promise<SwiftStorageConfig>; message: RegExp }> = [
      { name: 'a wrong password', config: async () => ({ ...good, password: 'not-the-key' }), message: /credentials refused \(HTTP 401\)/ },
      { name: 'a missing container', config: async () => ({ ...good, container: `${good.container}-missing` }), message: /does not exist|HTTP 404/ },
      { name: 'an unreachable identity endpoint', config: async () => ({ ...good, authUrl: `${await unreachableEndpoint()}/auth/1.0` }), message: /ECONNREFUSED|connect/ },
    ];

    before(async () => {
      good = await swiftTestConfig();
    });

    for (const { name, config, message } of cases) {
      describe(name, () => {
        let driver: SwiftDriver;
        let registry: TestRegistry;
        before(async () => {
          driver = new SwiftDriver(await config());
          registry = await startTestRegistry({ driver });
        });
        after(async () => {
          await registry.close();
          await driver.close();
        });

        it('ping fails with StorageUnavailableError naming the problem, and no call passes for a missing path', async () => {
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
        });

        it('the registry answers 503 UNAVAILABLE with the JSON envelope, and /readyz says storage is unavailable', async () => {
          await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' }), 503, 'UNAVAILABLE');
          await expectError(
            await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digestOf('x')}`, { method: 'POST', body: 'x' }),
            503,
            'UNAVAILABLE',
          );
          const ready = await fetch(`${registry.url}/readyz`);
          assert.equal(ready.status, 503);
          assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'unavailable', metadata: 'ok' });
        });
      });
    }

    it('with the right settings /readyz reports the store ready', async () => {
      const driver = new SwiftDriver(good);
      const registry = await startTestRegistry({ driver });
      try {
        const ready = await fetch(`${registry.url}/readyz`);
        assert.equal(ready.status, 200);
        assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'ok', metadata: 'ok' });
      } finally {
        await registry.close();
        await driver.close();
      }
    });
  });
}
