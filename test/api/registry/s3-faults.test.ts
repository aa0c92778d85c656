// The S3 driver when the store is wrong or gone, against a real Ceph RGW: wrong
// credentials, a missing bucket, an endpoint nobody listens on. Driver calls fail with
// StorageUnavailableError naming the problem; the registry answers JSON 503 UNAVAILABLE
// (never a 500, never a half-visible blob) and /readyz reports the store unavailable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PathNotFoundError, StorageUnavailableError } from '../../../services/registry/storage/driver.js';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import type { S3StorageConfig } from '../../../shared/config/index.js';
import { s3SuiteGate, s3TestConfig, unreachableEndpoint } from '../../support/ceph-rgw.js';
import { digestOf, expectError, startTestRegistry, type TestRegistry } from './harness.js';

/** A port with nothing listening on it (taken from the kernel, then released). */

if (await s3SuiteGate('S3 faults')) {
  describe('S3 store faults (Ceph RGW)', () => {
    let good: S3StorageConfig;
    const cases: Array<{ name: string; config: () => Promise<S3StorageConfig>; message: RegExp }> = [
      {
        name: 'wrong credentials',
        config: async () => ({ ...good, secretKey: 'not-the-secret' }),
        message: /SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied|403/,
      },
      { name: 'a missing bucket', config: async () => ({ ...good, bucket: `${good.bucket}-missing` }), message: /NoSuchBucket|does not exist/ },
      {
        name: 'an unreachable endpoint',
        config: async () => ({ ...good, regionEndpoint: await unreachableEndpoint() }),
        message: /ECONNREFUSED|connect/,
      },
    ];

    before(async () => {
      good = await s3TestConfig();
    });

    for (const { name, config, message } of cases) {
      describe(name, () => {
        let driver: S3Driver;
        let registry: TestRegistry;
        before(async () => {
          driver = new S3Driver(await config());
          registry = await startTestRegistry({ driver });
        });
        after(async () => {
          await registry.close();
          driver.client.destroy();
        });

        it('driver calls fail with StorageUnavailableError naming the problem, not PathNotFoundError', async () => {
          for (const call of [() => driver.ping(), () => driver.stat('/blobs/x'), () => driver.getContent('/x'), () => driver.putContent('/x', Buffer.from('x'))]) {
            await assert.rejects(call(), (err: unknown) => {
              assert.ok(err instanceof StorageUnavailableError, `got ${String(err)}`);
              assert.ok(!(err instanceof PathNotFoundError));
              assert.match(err.message, message);
              assert.doesNotMatch(err.message, /not-the-secret|dockyardtestsecret/);
              return true;
            });
          }
        });

        it('the registry answers 503 UNAVAILABLE with the JSON envelope, and /readyz says storage is unavailable', async () => {
          const digest = digestOf('x');
          await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' }), 503, 'UNAVAILABLE');
          await expectError(
            await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'x' }),
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
      const driver = new S3Driver(good);
      const registry = await startTestRegistry({ driver });
      try {
        const ready = await fetch(`${registry.url}/readyz`);
        assert.equal(ready.status, 200);
        assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'ok', metadata: 'ok' });
      } finally {
        await registry.close();
        driver.client.destroy();
      }
    });
  });
}
