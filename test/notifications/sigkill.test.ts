/**
 * SIGKILL of the registry process between a change and its delivery: once with the
 * delivery request in flight (the receiver holds it unanswered), once with the receiver
 * down, so nothing was delivered before the kill. After a restart on the same data every
 * event arrives, once per id, in order, signed. The endpoint comes from
 * REGISTRY_NOTIFICATIONS_ENDPOINTS (the environment form of the configuration).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Workspace } from '../e2e/harness/workspace.js';
import { makeImage, pushImage } from '../lifecycle/harness.js';
import { registryService, type KillableService } from '../reliability/support/services.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'sigkill-secret-0123456789';

describe('notifications survive SIGKILL of the registry', () => {
  const ws = Workspace.create('notify-sigkill');
  let receiver: WebhookReceiver | undefined;
  let registry: KillableService | undefined;
  after(async () => {
    await registry?.kill();
    await receiver?.close();
    ws.dispose();
  });

  it('delivers after a restart what was committed before the kill', async () => {
    receiver = await WebhookReceiver.start();
    const endpoints = [{ name: 'ci', url: receiver.url, secret: SECRET, timeout: '30s', threshold: 1, backoff: '200ms', ignore: { actions: ['pull'] } }];
    registry = registryService(ws, ws.mkdir('data'), { REGISTRY_NOTIFICATIONS_ENDPOINTS: JSON.stringify(endpoints) });

    // 1. The delivery is in flight (the receiver never answers) when the process dies.
    receiver.mode = 'hang';
    let url = await registry.start();
    assert.ok(await pushImage(url, 'team/app', 'v1', makeImage('one', [Buffer.from('one\n')])));
    while (receiver.arrivals === 0) await sleep(20);
    await registry.kill();

    // 2. The receiver is down: the change commits, nothing can be delivered, the process dies.
    await receiver.down();
    receiver.mode = 'ok';
    url = await registry.start();
    assert.ok(await pushImage(url, 'team/app', 'v2', makeImage('two', [Buffer.from('two\n')])));
    await registry.kill();
    assert.equal(receiver.events().length, 0);

    await receiver.up();
    await registry.start();
    const events = await receiver.waitFor((all) => all.length >= 6, 30_000);
    const shapes = events.map((e) => `${e.action} ${(e.target as { tag?: string }).tag ?? (e.target as { mediaType: string }).mediaType}`);
    assert.deepEqual(shapes, [
      'push application/octet-stream',
      'push application/octet-stream',
      'push v1',
      'push application/octet-stream',
      'push application/octet-stream',
      'push v2',
    ]);
    await sleep(1000);
    const ids = receiver.events().map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'once per event id');
    assert.equal(ids.length, 6);
    for (const request of receiver.requests) {
      assert.equal(request.headers['dockyard-signature'], `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`);
    }
  });
});
