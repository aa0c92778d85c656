// `config check` with REGISTRY_STORAGE=azure against Azurite (started by this file): the
// container must answer and take a probe write, and each kind of failure names the
// setting to fix, never the account key.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runConfigCheck } from '../../../services/config-check.js';
import type { AzureStorageConfig } from '../../../shared/config/index.js';
import { AzureDriver } from '../../../services/registry/storage/drivers/azure/index.js';
import { azureEnvironment, azureTestConfig, azuriteSuiteGate } from '../../support/azurite.js';
import { unreachableEndpoint } from '../../support/ceph-rgw.js';

const WRONG_KEY = Buffer.from('a key that is not the account key').toString('base64');

function envOf(config: AzureStorageConfig): Record<string, string> {
  return { DOCKYARD_CONFIG: '/dev/null', ...azureEnvironment({ ...config, rootDirectory: '/reg' }) };
}

async function check(env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCheck([], env, (line) => out.push(line), (line) => err.push(line));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

if (await azuriteSuiteGate('config check on Azure')) {
  describe('config check with azure storage', () => {
    let good: AzureStorageConfig;
    before(async () => {
      good = await azureTestConfig();
    });

    it('passes on a reachable, writable container and leaves no probe behind', async () => {
      const result = await check(envOf(good));
      assert.equal(result.code, 0, result.err);
      assert.ok(result.out.includes(`storage azure container ${good.container} (${good.serviceUrl}, account devstoreaccount1, root /reg)`), result.out);
      assert.deepEqual(await new AzureDriver(good).list('/'), []);
    });

    it('names the account key setting when the key is refused, without showing either key', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_AZURE_ACCOUNTKEY: WRONG_KEY });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.azure\.accountkey \(REGISTRY_STORAGE_AZURE_ACCOUNTKEY\): cannot write to Azure container .*the account key of devstoreaccount1 was refused/);
      assert.ok(!result.err.includes(WRONG_KEY) && !result.err.includes(good.accountKey));
    });

    it('names the container setting when the container does not exist', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_AZURE_CONTAINER: `${good.container}-nope` });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.azure\.container \(REGISTRY_STORAGE_AZURE_CONTAINER\): cannot write to Azure container .*-nope: container .* does not exist/);
    });

    it('names the service URL setting when nothing answers there', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_AZURE_SERVICEURL: `${await unreachableEndpoint()}/devstoreaccount1` });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.azure\.serviceurl \(REGISTRY_STORAGE_AZURE_SERVICEURL\): .*did not answer/);
    });
  });
}
