// `config check` with REGISTRY_STORAGE=swift against the Swift API of a real Ceph RGW: the
// container must answer and take a probe write, and each kind of failure names the setting.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runConfigCheck } from '../../../services/config-check.js';
import { SwiftDriver } from '../../../services/registry/storage/drivers/swift/index.js';
import type { SwiftStorageConfig } from '../../../shared/config/index.js';
import { swiftEnvironment, swiftSuiteGate, swiftTestConfig, unreachableEndpoint } from '../../support/ceph-rgw.js';
import { containerNames } from '../../support/swift-container.js';

function envOf(config: SwiftStorageConfig): Record<string, string> {
  return { DOCKYARD_CONFIG: '/dev/null', ...swiftEnvironment({ ...config, prefix: '/reg' }) };
}

async function check(env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCheck([], env, (line) => out.push(line), (line) => err.push(line));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

if (await swiftSuiteGate('config check on Swift')) {
  describe('config check with swift storage', () => {
    let good: SwiftStorageConfig;
    before(async () => {
      good = await swiftTestConfig();
    });

    it('passes on a reachable, writable container and leaves no probe behind', async () => {
      const result = await check(envOf(good));
      assert.equal(result.code, 0, result.err);
      assert.match(result.out, new RegExp(`storage swift container ${good.container} \\(${good.authUrl}, auth v1, user ${good.username}, prefix /reg\\)`));
      const driver = new SwiftDriver(good);
      try {
        assert.deepEqual(await containerNames(driver), []);
      } finally {
        await driver.close();
      }
    });

    it('names the username setting when the credentials are refused, without showing the password', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_SWIFT_PASSWORD: 'wrong-password-value' });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.swift\.username \(REGISTRY_STORAGE_SWIFT_USERNAME\): cannot write to Swift container .*credentials refused/);
      assert.doesNotMatch(result.err, /wrong-password-value/);
    });

    it('names the container setting when the container does not exist', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_SWIFT_CONTAINER: `${good.container}-nope` });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.swift\.container \(REGISTRY_STORAGE_SWIFT_CONTAINER\): .*-nope does not exist/);
    });

    it('names the authurl setting when nothing answers there', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_SWIFT_AUTHURL: `${await unreachableEndpoint()}/auth/1.0` });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.swift\.authurl \(REGISTRY_STORAGE_SWIFT_AUTHURL\): .*ECONNREFUSED/);
    });
  });
}
