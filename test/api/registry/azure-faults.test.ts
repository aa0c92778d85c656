// The Azure driver when the store is wrong or gone, against Azurite (started by this file):
// a wrong account key, a missing container, an endpoint nobody listens on, and Azurite
// killed under a running registry. Driver calls fail with StorageUnavailableError naming the
// problem; the registry answers JSON 503 UNAVAILABLE (never a 500, never a half-visible
// blob) and /readyz reports the store unavailable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { AzureDriver } from '../../../services/registry/storage/drivers/azure/index.js';
import type { AzureStorageConfig } from '../../../shared/config/index.js';
import { AZURITE_KEY, azureTestConfig, azuriteSuiteGate, stopAzurite } from '../../support/azurite.js';
import { unreachableEndpoint } from '../../support/ceph-rgw.js';
import { digestOf, expectError, startTestRegistry } from './harness.js';

const WRONG_KEY = Buffer.from('not the account key of devstoreaccount1').toString('base64');

async function expectUnavailable(registry: { url: string }): Promise<void> {
  const digest = digestOf('x');
  await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' }), 503, 'UNAVAILABLE');
  await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'x' }), 503, 'UNAVAILABLE');
  const ready = await fetch(`${registry.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'unavailable', metadata: 'ok' });
}

if (await azuriteSuiteGate('Azure faults')) {
  describe('Azure store faults (Azurite)', () => {
    let good: AzureStorageConfig;
    const cases: Array<{ name: string; config: () => Promise<AzureStorageConfig>; message: RegExp }> = [
      { name: 'a wrong account key', config: async () => ({ ...good, accountKey: WRONG_KEY }), message: /AuthorizationFailure|AuthenticationFailed|403/ },
      { name: 'a missing container', config: async () => ({ ...good, container: `${good.container}-missing` }), message: /ContainerNotFound|does not exist/ },
      {
        name: 'an unreachable endpoint',
        config: async () => ({ ...good, serviceUrl: `${await unreachableEndpoint()}/devstoreaccount1` }),
        message: /ECONNREFUSED|connect/,
      },
    ];

    before(async () => {
      good = await azureTestConfig();
    });

    for (const { name, config, message } of cases) {
      describe(name, () => {
        let driver: AzureDriver;
        let registry: Awaited<ReturnType<typeof startTestRegistry>>;
        before(async () => {
          driver = new AzureDriver(await config());
          registry = await startTestRegistry({ driver });
        });
        after(async () => {
          await registry.close();
        });

        it('driver calls fail with StorageUnavailableError naming the problem, not PathNotFoundError', async () => {
          for (const call of [() => driver.ping(), () => driver.stat('/blobs/x'), () => driver.getContent('/x'), () => driver.putContent('/x', Buffer.from('x'))]) {
            await assert.rejects(call(), (err: unknown) => {
              assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
              assert.ok(!(err instanceof PathNotFoundError));
              assert.match(err.message, message);
              assert.ok(!err.message.includes(AZURITE_KEY) && !err.message.includes(WRONG_KEY), 'no key in the message');
              return true;
            });
          }
        });

        it('the registry answers 503 UNAVAILABLE with the JSON envelope, and /readyz says storage is unavailable', async () => {
          await expectUnavailable(registry);
        });
      });
    }

    it('with the right settings /readyz reports the store ready; Azurite killed under it: 503, then nothing half-visible', async () => {
      const driver = new AzureDriver(good);
      const registry = await startTestRegistry({ driver });
      try {
        const ready = await fetch(`${registry.url}/readyz`);
        assert.equal(ready.status, 200);
        assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'ok', metadata: 'ok' });
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
  });
}
