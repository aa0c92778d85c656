// The store-fault scenarios (store-faults.ts) on the Azure driver against Azurite (started by
// this file): a wrong account key, a missing container, an endpoint nobody listens on; and,
// Azure's own, Azurite killed under a running registry: 503, then nothing half-visible.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { AzureDriver } from '../../../services/registry/storage/drivers/azure/index.js';
import type { AzureStorageConfig } from '../../../shared/config/index.js';
import { AZURITE_KEY, azureTestConfig, azuriteSuiteGate, stopAzurite } from '../../support/azurite.js';
import { unreachableEndpoint } from '../../support/ceph-rgw.js';
import { digestOf, expectError, startTestRegistry } from './harness.js';
import { describeStoreFaults, expectReady, expectUnavailable, type FaultBackend } from './store-faults.js';

const WRONG_KEY = Buffer.from('not the account key of devstoreaccount1').toString('base64');

const backend: FaultBackend<AzureStorageConfig, AzureDriver> = {
  gateName: 'Azure faults',
  title: 'Azure store faults (Azurite)',
  gate: azuriteSuiteGate,
  goodConfig: () => azureTestConfig(),
  cases: (good) => [
    { name: 'a wrong account key', config: async () => ({ ...good(), accountKey: WRONG_KEY }), message: /AuthorizationFailure|AuthenticationFailed|403/ },
    { name: 'a missing container', config: async () => ({ ...good(), container: `${good().container}-missing` }), message: /ContainerNotFound|does not exist/ },
    {
      name: 'an unreachable endpoint',
      config: async () => ({ ...good(), serviceUrl: `${await unreachableEndpoint()}/devstoreaccount1` }),
      message: /ECONNREFUSED|connect/,
    },
  ],
  driver: (config) => new AzureDriver(config),
  closeDriver: async () => {},
  driverCalls: {
    title: 'driver calls fail with StorageUnavailableError naming the problem, not PathNotFoundError',
    async check(driver, message) {
      for (const call of [() => driver.ping(), () => driver.stat('/blobs/x'), () => driver.getContent('/x'), () => driver.putContent('/x', Buffer.from('x'))]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
          assert.ok(!(err instanceof PathNotFoundError));
          assert.match(err.message, message);
          assert.ok(!err.message.includes(AZURITE_KEY) && !err.message.includes(WRONG_KEY), 'no key in the message');
          return true;
        });
      }
    },
  },
  afterCases: (good) => {
    it('with the right settings /readyz reports the store ready; Azurite killed under it: 503, then nothing half-visible', async () => {
      const driver = new AzureDriver(good());
      const registry = await startTestRegistry({ driver });
      try {
        await expectReady(registry);
        const body = Buffer.from('layer bytes');
        const started = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
        assert.equal(started.status, 202);
        const location = started.headers.get('location')!;
        // Last test of the file: the store goes away for good.
        await stopAzurite();
        const put = await fetch(new URL(`${location}${location.includes('?') ? '&' : '?'}digest=${digestOf(body)}`, registry.url), { method: 'PUT', body });
        await expectError(put, 503, 'UNAVAILABLE');
        await expectError(await fetch(`${registry.url}/v2/team/app/blobs/${digestOf(body)}`), 404, 'BLOB_UNKNOWN');
        await expectUnavailable(registry);
      } finally {
        await registry.close();
      }
    });
  },
};

await describeStoreFaults(backend);
