// The upload purge on one replica while another replica streams into an old session (issue
// 11): the purging replica must leave a session alone whose PostgreSQL advisory lock another
// host holds, and still remove an idle one. Two S3 clients and two lock pools over one Ceph
// RGW bucket, as on two hosts.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PgAdvisoryMutex } from '../../../shared/db/advisory-mutex.js';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import { UploadManager } from '../../../services/registry/storage/uploads.js';
import { s3SuiteGate, s3TestConfig } from '../../support/ceph-rgw.js';
import { heldBody } from '../../support/held-body.js';
import { POSTGRES_URL, postgresUnavailable } from '../../support/postgres.js';
import { digestOf, startReplica, startTestRegistry, type TestRegistry } from './harness.js';

const MiB = 1024 * 1024;
/** A purge age below zero: every session counts as older than the 7 days of production. */
const EVERY_SESSION = -60_000;

if (await s3SuiteGate('upload purge across replicas', postgresUnavailable)) {
  describe('upload purge across replicas on S3 and PostgreSQL locks', () => {
    const namespace = randomInt(1, 2 ** 31 - 1);
    let registry: TestRegistry;
    let streaming: { url: string; close(): Promise<void> };
    let purger: UploadManager;
    const drivers: S3Driver[] = [];
    const mutexes: PgAdvisoryMutex[] = [];
    let observer: pg.Client;

    before(async () => {
      const config = await s3TestConfig();
      drivers.push(new S3Driver(config), new S3Driver(config), new S3Driver(config));
      mutexes.push(new PgAdvisoryMutex(POSTGRES_URL, namespace), new PgAdvisoryMutex(POSTGRES_URL, namespace));
      registry = await startTestRegistry({ driver: drivers[0] });
      streaming = await startReplica(registry, { storage: drivers[1], sessionLocks: mutexes[0] });
      purger = new UploadManager(drivers[2]!, new BlobStore(drivers[2]!), mutexes[1]);
      observer = new pg.Client({ connectionString: POSTGRES_URL });
      await observer.connect();
    });
    after(async () => {
      await streaming?.close();
      await registry?.close();
      for (const mutex of mutexes) await mutex.close();
      for (const driver of drivers) driver.client.destroy();
      await observer?.end();
    });

    async function heldLocks(): Promise<number> {
      const { rows } = await observer.query<{ n: string }>(
        "select count(*) as n from pg_locks where locktype = 'advisory' and classid = $1 and granted",
        [namespace],
      );
      return Number(rows[0]!.n);
    }

    async function until(condition: () => Promise<boolean>): Promise<boolean> {
      for (let i = 0; i < 200; i++) {
        if (await condition()) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    }

    it('skips the session another replica streams into, removes an idle one, and the streamed upload completes', async () => {
      const busy = (await fetch(`${streaming.url}/v2/team/purge/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
      const idle = (await fetch(`${streaming.url}/v2/team/purge/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
      const content = randomBytes(7 * MiB + 3);
      const { body, release } = heldBody(content, 3 * MiB);
      const patch = fetch(`${streaming.url}${busy}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
      assert.ok(await until(async () => (await heldLocks()) === 1), 'the streaming replica holds the session lock');

      assert.equal(await purger.purgeOlderThan(EVERY_SESSION), 1, 'only the idle session is purged');
      const idleState = await fetch(`${streaming.url}${idle}`);
      assert.equal(idleState.status, 404, 'the idle session is gone');

      release();
      const done = await patch;
      assert.equal(done.status, 202, await done.clone().text());
      const digest = digestOf(content);
      const completed = await fetch(`${streaming.url}${busy}?digest=${digest}`, { method: 'PUT' });
      assert.equal(completed.status, 201, await completed.clone().text());
      const pulled = Buffer.from(await (await fetch(`${registry.url}/v2/team/purge/blobs/${digest}`)).arrayBuffer());
      assert.ok(pulled.equals(content), 'the streamed blob is complete');
      assert.equal(await heldLocks(), 0);
    });
  });
}
