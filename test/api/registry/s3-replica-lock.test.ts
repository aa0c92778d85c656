// Two registry replicas (each its own S3 client and its own PostgreSQL lock pool, as on two
// hosts) over one Ceph RGW bucket: a client that sends the next chunk to the second replica
// while the first still streams the previous one gets 416 once the first has finished,
// instead of both appending at the same offset and one of them being silently lost.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PgAdvisoryMutex } from '../../../shared/db/advisory-mutex.js';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import { s3SuiteGate, s3TestConfig } from '../../support/ceph-rgw.js';
import { heldBody } from '../../support/held-body.js';
import { POSTGRES_URL, postgresUnavailable } from '../../support/postgres.js';
import { digestOf, expectError, startReplica, startTestRegistry, type TestRegistry } from './harness.js';

const MiB = 1024 * 1024;

if (await s3SuiteGate('upload session locks across replicas', postgresUnavailable)) {
  describe('upload sessions across replicas on S3 and PostgreSQL locks', () => {
    // A namespace of this run's own, so other advisory locks in the database never count here.
    const namespace = randomInt(1, 2 ** 31 - 1);
    let registry: TestRegistry;
    const drivers: S3Driver[] = [];
    const mutexes: PgAdvisoryMutex[] = [];
    const replicas: Array<{ url: string; close(): Promise<void> }> = [];
    let observer: pg.Client;

    before(async () => {
      const config = await s3TestConfig();
      drivers.push(new S3Driver(config), new S3Driver(config), new S3Driver(config));
      registry = await startTestRegistry({ driver: drivers[0] });
      for (const driver of drivers.slice(1)) {
        const mutex = new PgAdvisoryMutex(POSTGRES_URL, namespace);
        mutexes.push(mutex);
        replicas.push(await startReplica(registry, { storage: driver, sessionLocks: mutex }));
      }
      observer = new pg.Client({ connectionString: POSTGRES_URL });
      await observer.connect();
    });
    after(async () => {
      for (const replica of replicas) await replica.close();
      await registry.close();
      for (const mutex of mutexes) await mutex.close();
      for (const driver of drivers) driver.client.destroy();
      await observer.end();
    });

    /** Advisory locks of this namespace: held (granted) and waited for. */
    async function locks(): Promise<{ held: number; waiting: number }> {
      const { rows } = await observer.query<{ granted: boolean; n: string }>(
        "select granted, count(*) as n from pg_locks where locktype = 'advisory' and classid = $1 group by granted",
        [namespace],
      );
      return {
        held: Number(rows.find((row) => row.granted)?.n ?? 0),
        waiting: Number(rows.find((row) => !row.granted)?.n ?? 0),
      };
    }

    async function until(condition: () => Promise<boolean>): Promise<boolean> {
      for (let i = 0; i < 200; i++) {
        if (await condition()) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    }

    it('the second replica waits for the first and then answers 416 with the offset the first reached', async () => {
      const [first, second] = replicas;
      const post = await fetch(`${first.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
      const location = post.headers.get('location')!;
      const content = randomBytes(6 * MiB);
      const { body, release } = heldBody(content, 3 * MiB);
      const slow = fetch(`${first.url}${location}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
      assert.ok(await until(async () => (await locks()).held === 1), 'the first replica holds the session lock');
      const early = Buffer.from('chunk sent to the other replica too early');
      const racing = fetch(`${second.url}${location}`, {
        method: 'PATCH',
        body: early,
        headers: { 'Content-Range': `0-${early.length - 1}` },
      });
      // Only a sync point: the second request has reached its replica and waits for the lock.
      await until(async () => (await locks()).waiting === 1);
      release();
      const done = await slow;
      assert.equal(done.status, 202, await done.clone().text());
      assert.equal(done.headers.get('range'), `0-${content.length - 1}`);
      const refused = await racing;
      assert.equal(refused.headers.get('range'), `0-${content.length - 1}`);
      await expectError(refused, 416, 'RANGE_INVALID');
      const digest = digestOf(content);
      const completed = await fetch(`${second.url}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(completed.status, 201, await completed.clone().text());
      const pulled = await fetch(`${registry.url}/v2/team/app/blobs/${digest}`);
      assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content));
      assert.deepEqual(await locks(), { held: 0, waiting: 0 });
    });
  });
}
