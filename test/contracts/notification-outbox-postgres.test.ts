// The notification outbox contract on PostgreSQL: a new schema per test, dropped afterwards,
// plus what only PostgreSQL can show: an event whose transaction is still open is not passed.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNotificationEndpoint } from '../../shared/config/notifications.js';
import { EndpointStore } from '../../services/registry/notifications/endpoint-store.js';
import { newEvent } from '../../services/registry/notifications/events.js';
import { OutboxStore } from '../../services/registry/notifications/outbox-store.js';
import { SecretBox } from '../../services/registry/notifications/secrets.js';
import { postgresSuiteGate } from '../support/postgres.js';
import { makePostgresFixture } from './metadata-store.contract.js';
import { runNotificationOutboxContract } from './notification-outbox.contract.js';

const ORIGIN = { request: { id: 'r', addr: 'a', host: 'h', method: 'PUT', useragent: 'u' }, actor: {}, source: { addr: 'h', instanceID: 'i' } };

if (await postgresSuiteGate('the notification outbox contract')) {
  runNotificationOutboxContract('postgres', makePostgresFixture);

  describe('notification outbox (postgres): commit order', () => {
    it('never passes an earlier id whose transaction commits after a later one', async () => {
      const fixture = await makePostgresFixture();
      try {
        const outbox = new OutboxStore(fixture.db);
        const ci = await new EndpointStore(fixture.db, () => new SecretBox(Buffer.alloc(32))).add(parseNotificationEndpoint({ name: 'ci', url: 'http://127.0.0.1:9/' }, 'e'), 't');
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let inserted!: () => void;
        const firstInserted = new Promise<void>((resolve) => (inserted = resolve));
        const slow = fixture.db.transaction(async (trx) => {
          await outbox.append(trx, [newEvent('push', { repository: 'team/slow' }, ORIGIN)]);
          inserted();
          await held;
        });
        await firstInserted;
        await outbox.append(fixture.db, [newEvent('push', { repository: 'team/fast' }, ORIGIN)]);
        await outbox.claim('me', Date.now(), 15_000);
        try {
          assert.equal(await outbox.fanIn(ci, 'me', Date.now(), 100), 0, 'waits for the open transaction');
        } finally {
          release();
          await slow;
        }
        assert.equal(await outbox.fanIn(ci, 'me', Date.now(), 100), 2);
        assert.deepEqual((await outbox.head(ci.id, 10)).map((d) => d.event.target.repository), ['team/slow', 'team/fast']);
      } finally {
        await fixture.dispose();
      }
    });
  });
}
