// `registry.storage.s3` as CNCF distribution spells it, the REGISTRY_STORAGE_S3_* overrides,
// the redirect switch beside the driver, and the defaults.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRegistryConfig, registryConfigFromEnv } from '../../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-s3-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function yaml(text: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  return file;
}

describe('s3 storage settings', () => {
  it('reads every key from YAML, with redirect.disable beside the driver', () => {
    const file = yaml(
      [
        'registry:',
        '  storage:',
        '    s3: {region: eu-west-1, regionendpoint: "http://rgw:7480", bucket: reg, rootdirectory: /prod, accesskey: AK, secretkey: SK,',
        '         forcepathstyle: true, secure: false, skipverify: true, chunksize: 16777216, requestchecksumcalculation: WHEN_SUPPORTED}',
        '    redirect: {disable: false}',
      ].join('\n'),
    );
    const { storage } = loadRegistryConfig({ file, env: {} });
    assert.deepEqual(storage, {
      driver: 's3',
      s3: {
        region: 'eu-west-1',
        regionEndpoint: 'http://rgw:7480',
        bucket: 'reg',
        rootDirectory: '/prod',
        accessKey: 'AK',
        secretKey: 'SK',
        forcePathStyle: true,
        secure: false,
        skipVerify: true,
        chunkSize: 16 * 1024 * 1024,
        requestChecksumCalculation: 'when_supported',
        redirect: true,
      },
    });
  });

  it('takes distribution’s environment names over YAML', () => {
    const file = yaml('registry: {storage: {filesystem: {rootdirectory: /x}}}\n');
    const { storage } = loadRegistryConfig({
      file,
      env: {
        REGISTRY_STORAGE: 's3',
        REGISTRY_STORAGE_S3_REGION: 'us-east-1',
        REGISTRY_STORAGE_S3_REGIONENDPOINT: 'minio:9000',
        REGISTRY_STORAGE_S3_BUCKET: 'b',
        REGISTRY_STORAGE_S3_ROOTDIRECTORY: '/r',
        REGISTRY_STORAGE_S3_ACCESSKEY: 'a',
        REGISTRY_STORAGE_S3_SECRETKEY: 's',
        REGISTRY_STORAGE_S3_FORCEPATHSTYLE: 'true',
        REGISTRY_STORAGE_S3_SECURE: 'false',
        REGISTRY_STORAGE_S3_SKIPVERIFY: 'false',
        REGISTRY_STORAGE_S3_CHUNKSIZE: '5242880',
        REGISTRY_STORAGE_REDIRECT_DISABLE: 'true',
      },
    });
    assert.equal(storage.driver, 's3');
    assert.ok(storage.driver === 's3');
    assert.equal(storage.s3.regionEndpoint, 'minio:9000');
    assert.equal(storage.s3.secure, false);
    assert.equal(storage.s3.forcePathStyle, true);
    assert.equal(storage.s3.chunkSize, 5242880);
    assert.equal(storage.s3.redirect, false);
  });

  it('defaults: root of the bucket, https, virtual-host style, 10 MiB parts, proxied GETs, the AWS credential chain', () => {
    const { storage } = registryConfigFromEnv({ REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_REGION: 'us-east-1', REGISTRY_STORAGE_S3_BUCKET: 'b' });
    assert.deepEqual(storage, {
      driver: 's3',
      s3: {
        region: 'us-east-1',
        regionEndpoint: undefined,
        bucket: 'b',
        rootDirectory: '/',
        accessKey: undefined,
        secretKey: undefined,
        forcePathStyle: false,
        secure: true,
        skipVerify: false,
        chunkSize: 10 * 1024 * 1024,
        requestChecksumCalculation: 'when_required',
        redirect: false,
      },
    });
  });
});
