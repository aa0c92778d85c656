// `config check` with REGISTRY_STORAGE=s3 against a real Ceph RGW: the bucket must answer
// and take a probe write, and each kind of failure names the setting to fix.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runConfigCheck } from '../../../services/config-check.js';
import type { S3StorageConfig } from '../../../shared/config/index.js';
import { s3Environment, s3SuiteGate, s3TestConfig, unreachableEndpoint } from '../../support/ceph-rgw.js';
import { bucketKeys } from '../../support/s3-bucket.js';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';


function envOf(config: S3StorageConfig): Record<string, string> {
  return { DOCKYARD_CONFIG: '/dev/null', ...s3Environment({ ...config, rootDirectory: '/reg' }) };
}

async function check(env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCheck([], env, (line) => out.push(line), (line) => err.push(line));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

if (await s3SuiteGate('config check on S3')) {
  describe('config check with s3 storage', () => {
    let good: S3StorageConfig;
    before(async () => {
      good = await s3TestConfig();
    });

    it('passes on a reachable, writable bucket and leaves no probe behind', async () => {
      const result = await check(envOf(good));
      assert.equal(result.code, 0, result.err);
      assert.match(result.out, new RegExp(`storage s3 bucket ${good.bucket} \\(${good.regionEndpoint}, root /reg, access key\\)`));
      const driver = new S3Driver(good);
      try {
        assert.deepEqual(await bucketKeys(driver.client, good.bucket), []);
      } finally {
        driver.client.destroy();
      }
    });

    it('names the secret key setting when the credentials are refused, without showing the secret', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_S3_SECRETKEY: 'wrong-secret-value' });
      assert.equal(result.code, 1);
      assert.match(result.err, /invalid configuration registry\.storage\.s3\.accesskey \(REGISTRY_STORAGE_S3_ACCESSKEY\): cannot write to S3 bucket .*the credentials were refused/);
      assert.doesNotMatch(result.err, /wrong-secret-value/);
    });

    it('names the bucket setting when the bucket does not exist', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_S3_BUCKET: `${good.bucket}-nope` });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.s3\.bucket \(REGISTRY_STORAGE_S3_BUCKET\): cannot write to S3 bucket .*-nope: bucket .* does not exist/);
    });

    it('names the endpoint setting when nothing answers there', async () => {
      const result = await check({ ...envOf(good), REGISTRY_STORAGE_S3_REGIONENDPOINT: await unreachableEndpoint() });
      assert.equal(result.code, 1);
      assert.match(result.err, /registry\.storage\.s3\.regionendpoint \(REGISTRY_STORAGE_S3_REGIONENDPOINT\): .*the endpoint did not answer/);
    });

    it('refuses an access key without a secret key before contacting anything', async () => {
      const env = envOf(good);
      delete (env as Record<string, string | undefined>).REGISTRY_STORAGE_S3_SECRETKEY;
      const result = await check(env);
      assert.equal(result.code, 1);
      assert.match(result.err, /REGISTRY_STORAGE_S3_SECRETKEY.*go together/);
    });
  });
}
