/**
 * Two registry replicas on one PostgreSQL database (and one blob store), each with its own
 * dispatcher: pushes land on both, the endpoint receives every event once per id, in outbox
 * order. The endpoint's lease (claimed with FOR UPDATE SKIP LOCKED) lets one replica send at a time.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import knexFactory from 'knex';
import { silentLogger } from '../../shared/observability/logger.js';
import { startRegistryService, type RunningRegistry } from '../../services/registry/main.js';
import { makeImage, pushImage } from '../lifecycle/harness.js';
import { POSTGRES_URL, postgresSuiteGate } from '../support/postgres.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { registryConfig, testDatabase } from './harness.js';

if (await postgresSuiteGate('notification replicas')) {
  describe('notifications from two replicas on one PostgreSQL', () => {
    let receiver: WebhookReceiver;
    let dir: string;
    let drop: () => Promise<void>;
    let schema: string;
    const replicas: RunningRegistry[] = [];

    before(async () => {
      receiver = await WebhookReceiver.start();
      dir = await mkdtemp(join(tmpdir(), 'dockyard-notify-replicas-'));
      const db = await testDatabase('postgres', dir);
      drop = db.drop;
      schema = (db.database as { schema: string }).schema;
      const config = registryConfig(dir, db.database, [{ name: 'ci', url: receiver.url, ignore: { actions: ['pull'] } }]);
      for (let i = 0; i < 2; i++) replicas.push(await startRegistryService(config, { logger: silentLogger() }));
    });
    after(async () => {
      for (const replica of replicas) await replica.close();
      await drop?.();
      await receiver?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('every event once, in order, whichever replica took the push', async () => {
      for (let i = 0; i < 6; i++) {
        const url = replicas[i % 2]!.url;
        assert.ok(await pushImage(url, 'team/app', `v${i}`, makeImage(`replica ${i}`, [Buffer.from(`replica layer ${i}\n`)])));
      }
      const db = knexFactory({ client: 'pg', connection: POSTGRES_URL, searchPath: [schema] });
      let expected: string[];
      try {
        expected = ((await db('notification_outbox').select('event_id').orderBy('id')) as Array<{ event_id: string }>).map((r) => r.event_id);
      } finally {
        await db.destroy();
      }
      assert.equal(expected.length, 18);
      const got = await receiver.waitFor((events) => events.length >= expected.length, 60_000);
      assert.deepEqual(got.map((e) => e.id), expected);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(receiver.events().length, expected.length, 'nothing sent twice');
    });
  });
}
