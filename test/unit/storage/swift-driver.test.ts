// What the storage contract does not show about the Swift driver, against the Swift API of
// a real Ceph RGW: objects under the prefix and segments in their own hidden area; a move
// hands the segments to the destination, so a leftover copy of the source manifest (a
// crash between the copy and the source's removal) can be deleted without breaking the
// destination; Keystone v3 password auth with a scoped project and the catalog's endpoint
// of the configured region and interface; a token the store refuses is replaced once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SwiftDriver } from '../../../services/registry/storage/drivers/swift/index.js';
import { SEGMENTS_HEADER } from '../../../services/registry/storage/drivers/swift/segments.js';
import type { SwiftStorageConfig } from '../../../shared/config/index.js';
import { swiftRgw, swiftSuiteGate, swiftTestConfig } from '../../support/ceph-rgw.js';
import { startFakeKeystone, type FakeKeystone } from '../../support/fake-keystone.js';
import { containerNames } from '../../support/swift-container.js';

const MiB = 1024 * 1024;

if (await swiftSuiteGate('Swift driver')) {
  describe('Swift driver (Ceph RGW)', () => {
    let config: SwiftStorageConfig;
    let driver: SwiftDriver;
    before(async () => {
      config = await swiftTestConfig({ prefix: '/reg' });
      driver = new SwiftDriver(config);
    });
    after(async () => driver.close());

    it('stores objects under the prefix, large ones as an SLO of hidden segments, and a suspended writer only as hidden state', async () => {
      await driver.putContent('/small', Buffer.from('x'));
      const writer = await driver.writer('/big', false);
      await writer.write(randomBytes(2 * MiB + 5));
      await writer.commit();
      const suspended = await driver.writer('/up/data', true);
      await suspended.write(randomBytes(10));
      await suspended.suspend();
      const names = await containerNames(driver);
      assert.deepEqual(names.filter((n) => !n.startsWith('reg/.segments/')), ['reg/big', 'reg/small', 'reg/up/data/.writer']);
      assert.equal(names.filter((n) => n.startsWith('reg/.segments/')).length, 4); // three segments and the owner record
      assert.deepEqual(await driver.list('/'), ['/big', '/small', '/up']);
      await driver.delete('/big');
      await driver.delete('/up');
      assert.deepEqual(await containerNames(driver), ['reg/small']);
    });

    it('after a move, deleting a leftover copy of the source manifest leaves the destination whole', async () => {
      const content = randomBytes(3 * MiB + 1);
      const writer = await driver.writer('/uploads/u1/data', true);
      await writer.write(content);
      await writer.commit({ name: false });
      await driver.move('/uploads/u1/data', '/blobs/b1/data');
      // The state a crash between the manifest copy and the source's removal leaves behind.
      const head = await driver.client.done('HEAD', '/', { method: 'HEAD', object: 'reg/blobs/b1/data' });
      await driver.client.done('COPY', '/', {
        method: 'PUT',
        object: 'reg/uploads/u1/data',
        query: { 'multipart-manifest': 'get' },
        headers: { 'x-copy-from': driver.client.objectPath('reg/blobs/b1/data'), 'content-length': '0', [SEGMENTS_HEADER]: String(head[SEGMENTS_HEADER]) },
      });
      await driver.delete('/uploads/u1');
      assert.ok((await driver.getContent('/blobs/b1/data')).equals(content));
      await driver.delete('/blobs/b1');
      assert.deepEqual((await containerNames(driver)).filter((n) => n.startsWith('reg/.segments/')), []);
    });

    it('deleting a path removes the segments of a writer that died before it suspended or committed', async () => {
      await driver.putContent('/uploads/k/info.json', Buffer.from('{}'));
      const writer = await driver.writer('/uploads/k/data', true);
      await writer.write(randomBytes(2 * MiB + 1)); // two segments go up, then the process "dies"
      // The second segment uploads in the background: wait until the store has both.
      for (let i = 0; i < 100 && (await containerNames(driver, 'reg/.segments/uploads/k/')).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await containerNames(driver, 'reg/.segments/uploads/k/')).length, 2);
      await driver.delete('/uploads/k');
      assert.deepEqual(await containerNames(driver, 'reg/.segments/uploads/k/'), []);
      assert.deepEqual(await containerNames(driver, 'reg/uploads/k/'), []);
    });

    it('replacing a large object (by putContent, a new writer or a move onto it) deletes the segments it owned', async () => {
      const segmentsOf = async () => (await containerNames(driver, 'reg/.segments/')).filter((n) => n.includes('/replaced/'));
      const large = async (path: string) => {
        const writer = await driver.writer(path, false);
        await writer.write(randomBytes(MiB + 1));
        await writer.commit();
      };
      await large('/replaced/a');
      assert.equal((await segmentsOf()).length, 3);
      await driver.putContent('/replaced/a', Buffer.from('small now'));
      assert.deepEqual(await segmentsOf(), []);
      await large('/replaced/a');
      await large('/replaced/a');
      assert.equal((await segmentsOf()).length, 3);
      await large('/replaced/b');
      await driver.move('/replaced/b', '/replaced/a');
      // Only b's set remains (now owned by a).
      assert.equal((await segmentsOf()).length, 3);
      assert.equal((await driver.getContent('/replaced/a')).length, MiB + 1);
      await driver.delete('/replaced');
      assert.deepEqual(await segmentsOf(), []);
    });

    describe('Keystone v3', () => {
      let keystone: FakeKeystone;
      before(async () => {
        keystone = await startFakeKeystone({ rgw: await swiftRgw(), user: 'registry', password: 'pw', badTokens: 1 });
      });
      after(async () => keystone.close());

      it('scopes the token to the project, takes the endpoint of the region and interface, and replaces a refused token once', async () => {
        const v3 = new SwiftDriver({
          ...config,
          authUrl: keystone.url,
          authVersion: 3,
          username: 'registry',
          password: 'pw',
          domain: 'Default',
          tenant: 'registry-project',
          region: 'RegionTwo',
          endpointType: 'public',
        });
        try {
          await v3.putContent('/via-keystone', Buffer.from('hello'));
          assert.equal((await v3.getContent('/via-keystone')).toString(), 'hello');
          await v3.ping();
        } finally {
          await v3.close();
        }
        // The first token was refused by the store (401): exactly one more was asked for.
        assert.equal(keystone.requests.length, 2);
        assert.deepEqual(keystone.requests[0], {
          auth: {
            identity: { methods: ['password'], password: { user: { name: 'registry', password: 'pw', domain: { name: 'Default' } } } },
            scope: { project: { name: 'registry-project', domain: { name: 'Default' } } },
          },
        });
      });

      it('wrong credentials are a StorageUnavailableError naming the refusal, not a retry loop', async () => {
        const before = keystone.requests.length;
        const v3 = new SwiftDriver({ ...config, authUrl: keystone.url, authVersion: 3, username: 'registry', password: 'wrong' });
        try {
          await assert.rejects(v3.ping(), /Keystone v3: credentials refused \(HTTP 401\)/);
        } finally {
          await v3.close();
        }
        assert.equal(keystone.requests.length - before, 1);
      });
    });
  });
}
