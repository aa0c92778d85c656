/**
 * The notification outbox and endpoint stores, run on SQLite (notification-outbox-sqlite.test.ts)
 * and PostgreSQL (notification-outbox-postgres.test.ts): events exist only when their
 * transaction commits, the cursor queues what each endpoint wants in outbox order and never
 * passes an event whose transaction is still open, leases keep one sender per endpoint,
 * retry state, the delivery log, redelivery and pruning.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { parseNotificationEndpoint } from '../../shared/config/notifications.js';
import { EndpointStore, type Endpoint } from '../../services/registry/notifications/endpoint-store.js';
import { newEvent, type RegistryEvent } from '../../services/registry/notifications/events.js';
import { GAP_WAIT_MS, OutboxStore } from '../../services/registry/notifications/outbox-store.js';
import { SecretBox } from '../../services/registry/notifications/secrets.js';
import type { MetadataStoreFixture } from './metadata-store.contract.js';

const ORIGIN = { request: { id: 'r', addr: '127.0.0.1', host: 'h', method: 'PUT', useragent: 'test' }, actor: {}, source: { addr: 'h', instanceID: 'i' } };

function event(action: RegistryEvent['action'], repository: string, mediaType = 'application/vnd.oci.image.manifest.v1+json'): RegistryEvent {
  return newEvent(action, { repository, mediaType, digest: `sha256:${'a'.repeat(64)}` }, ORIGIN);
}

export function runNotificationOutboxContract(name: string, make: () => Promise<MetadataStoreFixture>): void {
  describe(`notification outbox contract (${name})`, () => {
    let fixture: MetadataStoreFixture;
    let db: Knex;
    let outbox: OutboxStore;
    let endpoints: EndpointStore;
    const box = new SecretBox(randomBytes(32));

    beforeEach(async () => {
      fixture = await make();
      db = fixture.db;
      outbox = new OutboxStore(db);
      endpoints = new EndpointStore(db, () => box);
    });
    afterEach(() => fixture.dispose());

    const add = (spec: Record<string, unknown>): Promise<Endpoint> => endpoints.add(parseNotificationEndpoint({ url: 'http://127.0.0.1:9/x', ...spec }, 'e'), 'test');

    it('an event exists only when the transaction that wrote it commits', async () => {
      const ci = await add({ name: 'ci' });
      await assert.rejects(
        db.transaction(async (trx) => {
          await outbox.append(trx, [event('push', 'team/a')]);
          throw new Error('the change fails');
        }),
      );
      await db.transaction((trx) => outbox.append(trx, [event('push', 'team/b')]));
      await outbox.claim('me', Date.now(), 15_000);
      // On PostgreSQL the rolled-back insert used up an id: a gap, passed once it is old.
      assert.equal(await outbox.fanIn(ci, 'me', Date.now() + GAP_WAIT_MS + 1, 100), 1);
      assert.deepEqual((await outbox.head(ci.id, 10)).map((d) => d.event.target.repository), ['team/b']);
    });

    it('each endpoint queues what its filters want, in outbox order; a new endpoint starts at the end', async () => {
      await outbox.append(db, [event('push', 'team/early')]);
      const all = await add({ name: 'all' });
      const team = await add({ name: 'team', repositories: 'team/**', ignore: { actions: ['pull'] }, ignoredmediatypes: ['application/octet-stream'] });
      const events = [event('push', 'team/a'), event('pull', 'team/a'), event('push', 'other/b'), event('push', 'team/a/b', 'application/octet-stream'), event('delete', 'team/c')];
      await outbox.append(db, events);
      await outbox.claim('me', Date.now(), 15_000);
      assert.equal(await outbox.fanIn(all, 'me', Date.now(), 100), 5);
      assert.equal(await outbox.fanIn(team, 'me', Date.now(), 100), 2);
      assert.equal(await outbox.fanIn(team, 'me', Date.now(), 100), 0, 'the cursor moved past them');
      assert.deepEqual((await outbox.head(all.id, 10)).map((d) => d.event.id), events.map((e) => e.id));
      assert.deepEqual((await outbox.head(team.id, 10)).map((d) => d.event.id), [events[0]!.id, events[4]!.id]);
    });

    it('the cursor stops before a recent gap (a transaction still open) and passes an old one', async () => {
      const ci = await add({ name: 'ci' });
      await outbox.append(db, [event('push', 'team/a')]);
      const [{ id }] = (await db('notification_outbox').max({ id: 'id' })) as Array<{ id: number }>;
      const row = (e: RegistryEvent, createdAt: number) => ({ id: Number(id) + 2, event_id: e.id, action: 'push', repository: 'team/b', media_type: null, payload: JSON.stringify(e), ready: true, created_at: createdAt });
      await db('notification_outbox').insert(row(event('push', 'team/b'), Date.now()));
      await outbox.claim('me', Date.now(), 15_000);
      assert.equal(await outbox.fanIn(ci, 'me', Date.now(), 100), 1, 'stops at the gap');
      assert.equal(await outbox.fanIn(ci, 'me', Date.now() + GAP_WAIT_MS + 1, 100), 1, 'passes it once the gap is old');
    });

    it('a stale event holds the cursor until it is completed; completed with nothing it is skipped', async () => {
      const ci = await add({ name: 'ci' });
      const stale = { ...event('stale', 'base/os'), stale: { previous: 'sha256:p', current: 'sha256:c', dependents: [] } };
      await outbox.append(db, [stale], false);
      await outbox.append(db, [event('push', 'team/a')]);
      await outbox.claim('me', Date.now(), 15_000);
      assert.equal(await outbox.fanIn(ci, 'me', Date.now(), 100), 0);
      const [waiting] = await outbox.unready(0, 10);
      assert.equal(waiting!.event.id, stale.id);
      await outbox.complete(waiting!.id, null);
      assert.equal(await outbox.fanIn(ci, 'me', Date.now(), 100), 1);
      assert.deepEqual((await outbox.head(ci.id, 10)).map((d) => d.event.action), ['push']);
    });

    it('a lease keeps one owner per endpoint until it expires; fan-in refuses a process without it', async () => {
      const ci = await add({ name: 'ci' });
      const now = Date.now();
      assert.deepEqual(await outbox.claim('a', now, 15_000), [ci.id]);
      assert.deepEqual(await outbox.claim('b', now + 1000, 15_000), []);
      assert.equal(await outbox.fanIn(ci, 'b', now, 100), null);
      assert.deepEqual(await outbox.claim('a', now + 2000, 15_000), [ci.id], 'the owner renews');
      assert.deepEqual(await outbox.claim('b', now + 20_000, 15_000), [ci.id], 'taken over after expiry');
      await outbox.release('b');
      assert.deepEqual(await outbox.claim('a', now + 20_001, 15_000), [ci.id], 'released at once');
    });

    it('two owners claiming at the same moment never share an endpoint', async () => {
      for (let i = 0; i < 6; i++) await add({ name: `e${i}` });
      const now = Date.now();
      const [a, b] = await Promise.all([outbox.claim('a', now, 15_000), outbox.claim('b', now, 15_000)]);
      assert.equal(a.filter((id) => b.includes(id)).length, 0);
      assert.equal(a.length + b.length, 6);
    });

    it('retry state, the delivery log, redelivery, the backlog and pruning', async () => {
      const ci = await add({ name: 'ci', secret: 'a-secret-of-16-chars' });
      await outbox.append(db, [event('push', 'team/a'), event('push', 'team/b')]);
      await outbox.claim('me', Date.now(), 15_000);
      await outbox.fanIn(ci, 'me', Date.now(), 100);
      const head = await outbox.head(ci.id, 10);
      await outbox.markFailed([head[0]!.id], 'HTTP 503', Date.now() + 60_000);
      const [failed] = await outbox.head(ci.id, 1);
      assert.equal(failed!.attempts, 1);
      assert.ok(failed!.nextAttemptAt > Date.now());
      const backlog = await outbox.backlog(ci.id, Date.now() + 5000);
      assert.equal(backlog.pending, 2);
      assert.ok(backlog.lagMs >= 5000);
      await outbox.markDelivered(head.map((d) => d.id), Date.now());
      const log = await outbox.deliveries('ci', 10);
      assert.deepEqual(log.map((d) => [d.repository, d.status, d.attempts, d.lastError]), [['team/b', 'delivered', 1, null], ['team/a', 'delivered', 2, null]]);
      await outbox.redeliver(log[1]!.id, Date.now());
      assert.deepEqual((await outbox.head(ci.id, 10)).map((d) => d.event.target.repository), ['team/a']);
      await assert.rejects(outbox.redeliver(987654, Date.now()), /no delivery/);
      await outbox.markDelivered([log[1]!.id], Date.now());
      assert.equal(await outbox.prune(Date.now() + 1, 1000), 4, 'two deliveries and their two events');
      assert.equal((await outbox.deliveries(undefined, 10)).length, 0);
    });

    it('endpoints: names unique, secrets sealed, config endpoints replaced at start and not removable', async () => {
      await add({ name: 'api', secret: 'a-secret-of-16-chars' });
      await assert.rejects(add({ name: 'api' }), /exists/);
      const stored: Array<{ secret_sealed: string }> = await db('notification_endpoints').select('secret_sealed').where({ name: 'api' });
      assert.equal(box.open(stored[0]!.secret_sealed), 'a-secret-of-16-chars');
      const config = (n: string) => parseNotificationEndpoint({ name: n, url: 'http://127.0.0.1:9/x' }, 'e');
      await endpoints.syncConfig([config('one'), config('two')]);
      await endpoints.syncConfig([config('two')]);
      assert.deepEqual((await endpoints.list()).map((e) => [e.name, e.source]), [['api', 'api'], ['two', 'config']]);
      await assert.rejects(endpoints.remove('two', 'test'), /configuration file/);
      await assert.rejects(endpoints.syncConfig([config('api')]), /also one added through the admin API/);
      await endpoints.remove('api', 'test');
      await assert.rejects(endpoints.remove('api', 'test'), /no notification endpoint/);
    });
  });
}
