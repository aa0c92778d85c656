/**
 * An endpoint with `format: cloudevents` receives a CloudEvents 1.0 batch (structured
 * mode) whose `data` is the distribution event, signed the same way.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../lifecycle/harness.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { startNotifyRegistry, type NotifyRegistry } from './harness.js';

const SECRET = 'cloudevents-secret-0123';

describe('notifications as CloudEvents', () => {
  let receiver: WebhookReceiver;
  let registry: NotifyRegistry;
  before(async () => {
    receiver = await WebhookReceiver.start();
    registry = await startNotifyRegistry('sqlite', [{ name: 'ce', url: receiver.url, secret: SECRET, format: 'cloudevents', ignoredmediatypes: ['application/octet-stream'] }]);
  });
  after(async () => {
    await registry?.close();
    await receiver?.close();
  });

  it('a manifest push arrives as a signed CloudEvents batch', async () => {
    const image = makeImage('ce', [Buffer.from('ce layer\n')]);
    assert.ok(await pushImage(registry.url, 'team/ce', 'v1', image));
    const deadline = Date.now() + 20_000;
    while (receiver.requests.length === 0) {
      assert.ok(Date.now() < deadline, 'a request arrives');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [request] = receiver.requests;
    assert.equal(request!.headers['content-type'], 'application/cloudevents-batch+json');
    assert.equal(request!.headers['dockyard-signature'], `sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`);
    const batch = JSON.parse(request!.body.toString('utf8')) as Array<Record<string, unknown> & { data: { id: string; action: string; target: { tag: string; digest: string } } }>;
    assert.equal(batch.length, 1);
    const [event] = batch;
    assert.deepEqual([event!.specversion, event!.type, event!.subject, event!.datacontenttype], ['1.0', 'io.dockyard.registry.push', 'team/ce', 'application/json']);
    assert.equal(event!.id, event!.data.id);
    assert.deepEqual([event!.data.action, event!.data.target.tag, event!.data.target.digest], ['push', 'v1', image.digest]);
    assert.match(String(event!.source), /^\/dockyard\/127\.0\.0\.1:\d+$/);
  });
});
