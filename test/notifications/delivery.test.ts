/**
 * Delivery semantics with a real receiver: an endpoint that is down for a while (across a
 * registry restart in between) then up receives every event once per event id, in outbox
 * order; an endpoint that hangs holds up neither the pushes nor the other endpoint; once it
 * answers it receives everything too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import knexFactory from 'knex';
import { makeImage, pushImage } from '../lifecycle/harness.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { startNotifyRegistry, type NotifyRegistry } from './harness.js';

describe('notification delivery: down, hanging, restarted', () => {
  let down: WebhookReceiver;
  let hanging: WebhookReceiver;
  let healthy: WebhookReceiver;
  let registry: NotifyRegistry;

  before(async () => {
    [down, hanging, healthy] = await Promise.all([WebhookReceiver.start(), WebhookReceiver.start(), WebhookReceiver.start()]);
    registry = await startNotifyRegistry('sqlite', [
      { name: 'down', url: down.url, timeout: '1s', threshold: 1, backoff: '100ms', ignore: { actions: ['pull'] } },
      { name: 'hanging', url: hanging.url, timeout: '1s', threshold: 1, backoff: '100ms', ignore: { actions: ['pull'] } },
      { name: 'healthy', url: healthy.url, timeout: '1s', ignore: { actions: ['pull'] } },
    ]);
  });
  after(async () => {
    await registry?.close();
    for (const r of [down, hanging, healthy]) await r?.close();
  });

  /** Event ids in outbox order (what every endpoint must receive, in this order). */
  async function outboxIds(): Promise<string[]> {
    const db = knexFactory({ client: 'better-sqlite3', connection: { filename: (registry.config.database as { filename: string }).filename }, useNullAsDefault: true });
    try {
      return ((await db('notification_outbox').select('event_id').where('payload', '!=', 'null').orderBy('id')) as Array<{ event_id: string }>).map((r) => r.event_id);
    } finally {
      await db.destroy();
    }
  }

  async function deliveryState(endpoint: string): Promise<Array<{ status: string; attempts: number; lastError: string | null }>> {
    const log = await registry.admin(['notifications', 'deliveries', endpoint, '--json', '--limit', '1000']);
    assert.equal(log.code, 0, log.err);
    return JSON.parse(log.out) as Array<{ status: string; attempts: number; lastError: string | null }>;
  }

  it('pushes succeed while one endpoint is down and one hangs; the healthy one gets everything at once', async () => {
    await down.down();
    hanging.mode = 'hang';
    for (let i = 0; i < 5; i++) assert.ok(await pushImage(registry.url, 'team/app', `v${i}`, makeImage(`image ${i}`, [Buffer.from(`layer ${i}\n`)])));
    const expected = await outboxIds();
    assert.equal(expected.length, 15);
    const got = await healthy.waitFor((events) => events.length >= expected.length);
    assert.deepEqual(got.map((e) => e.id), expected);
    assert.equal(down.events().length, 0);
  });

  it('the failures are in the delivery log, retried with backoff; they survive a restart of the registry', async () => {
    const deadline = Date.now() + 20_000;
    while (!(await deliveryState('down')).some((d) => d.attempts >= 2)) {
      assert.ok(Date.now() < deadline, 'the dead endpoint is retried');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const state = await deliveryState('down');
    assert.ok(state.every((d) => d.status === 'pending'));
    assert.ok(state.some((d) => d.lastError !== null && /ECONNREFUSED/.test(d.lastError)), JSON.stringify(state[0]));
    assert.ok(hanging.arrivals >= 1, 'the hanging endpoint was tried');
    assert.ok((await deliveryState('hanging')).some((d) => d.lastError !== null && /timed out/.test(d.lastError)));
    await registry.restart();
    // More changes while the endpoint is still down, after the restart.
    assert.ok(await pushImage(registry.url, 'team/app', 'v5', makeImage('image 5', [Buffer.from('layer 5\n')])));
  });

  it('once up, each endpoint receives every event once per id, in order', async () => {
    const expected = await outboxIds();
    assert.equal(expected.length, 18);
    await down.up();
    hanging.mode = 'ok';
    for (const receiver of [down, hanging, healthy]) {
      const got = await receiver.waitFor((events) => events.length >= expected.length);
      assert.deepEqual(got.map((e) => e.id), expected);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const receiver of [down, hanging, healthy]) assert.equal(receiver.events().length, expected.length, 'nothing sent twice');
    assert.ok((await deliveryState('down')).every((d) => d.status === 'delivered' && d.lastError === null));
  });
});
