/**
 * Push, pull, delete, mount and tag moves produce exactly the expected events, in
 * distribution's envelope, signed with the endpoint's secret, at a receiver the test runs;
 * on SQLite and PostgreSQL (the dispatcher claims its lease with SKIP LOCKED there).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage, sha256 } from '../lifecycle/harness.js';
import { postgresSuiteGate } from '../support/postgres.js';
import { WebhookReceiver, type ReceivedEvent } from '../support/webhook-receiver.js';
import { startNotifyRegistry, type Dialect, type NotifyRegistry } from './harness.js';

const SECRET = 'test-secret-0123456789';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BLOB = 'application/octet-stream';

/** What the test compares: the event's action and target, without ids, sizes and URLs. */
function shape(e: ReceivedEvent): string {
  const t = e.target as { mediaType?: string; digest?: string; repository: string; tag?: string; fromRepository?: string };
  return [e.action, t.repository, t.tag ?? '-', t.digest ?? '-', t.mediaType ?? '-', t.fromRepository ?? '-'].join(' ');
}

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  describe(`notification events (${dialect})`, async () => {
    if (dialect === 'postgres' && !(await postgresSuiteGate('notification events'))) return;
    let receiver: WebhookReceiver;
    let registry: NotifyRegistry;
    let seen = 0;

    before(async () => {
      receiver = await WebhookReceiver.start();
      registry = await startNotifyRegistry(dialect, [{ name: 'ci', url: receiver.url, secret: SECRET, timeout: '2s', backoff: '100ms', threshold: 2 }]);
    });
    after(async () => {
      await registry?.close();
      await receiver?.close();
    });

    /** The next `count` events (waiting for them), then checks none beyond them arrives. */
    async function next(count: number): Promise<string[]> {
      const events = await receiver.waitFor((all) => all.length >= seen + count);
      const slice = events.slice(seen, seen + count);
      seen += count;
      return slice.map(shape);
    }

    const base1 = makeImage('base 1', [Buffer.from('base layer\n')]);
    const app = makeImage('app', [Buffer.from('base layer\n'), Buffer.from('app layer\n')]);
    const base2 = makeImage('base 2', [Buffer.from('base layer, fixed\n')]);

    it('a push: one event per blob uploaded, then the manifest with its tag', async () => {
      assert.ok(await pushImage(registry.url, 'base/os', '1', base1));
      assert.deepEqual(await next(3), [
        `push base/os - ${sha256(base1.config)} ${BLOB} -`,
        `push base/os - ${sha256(base1.layers[0]!)} ${BLOB} -`,
        `push base/os 1 ${base1.digest} ${MANIFEST} -`,
      ]);
    });

    it('pulls of the manifest (GET only) and of a blob', async () => {
      assert.equal((await fetch(`${registry.url}/v2/base/os/manifests/1`, { method: 'HEAD' })).status, 200);
      const manifest = await fetch(`${registry.url}/v2/base/os/manifests/1`);
      await manifest.arrayBuffer();
      const blob = await fetch(`${registry.url}/v2/base/os/blobs/${sha256(base1.layers[0]!)}`);
      await blob.arrayBuffer();
      assert.deepEqual(await next(2), [`pull base/os 1 ${base1.digest} ${MANIFEST} -`, `pull base/os - ${sha256(base1.layers[0]!)} ${BLOB} -`]);
    });

    it('a cross-repository mount', async () => {
      const layer = sha256(base1.layers[0]!);
      const response = await fetch(`${registry.url}/v2/team/app/blobs/uploads/?mount=${layer}&from=base/os`, { method: 'POST' });
      assert.equal(response.status, 201);
      assert.deepEqual(await next(1), [`mount team/app - ${layer} ${BLOB} base/os`]);
    });

    it('a tag move with images built on the previous digest: the push, then a stale event naming them', async () => {
      assert.ok(await pushImage(registry.url, 'team/app', '1', app));
      assert.deepEqual(await next(3), [
        `push team/app - ${sha256(app.config)} ${BLOB} -`,
        `push team/app - ${sha256(app.layers[1]!)} ${BLOB} -`,
        `push team/app 1 ${app.digest} ${MANIFEST} -`,
      ]);
      assert.ok(await pushImage(registry.url, 'base/os', '1', base2));
      const events = await receiver.waitFor((all) => all.length >= seen + 4);
      assert.deepEqual(await next(4), [
        `push base/os - ${sha256(base2.config)} ${BLOB} -`,
        `push base/os - ${sha256(base2.layers[0]!)} ${BLOB} -`,
        `push base/os 1 ${base2.digest} ${MANIFEST} -`,
        `stale base/os 1 ${base2.digest} ${MANIFEST} -`,
      ]);
      const stale = events[seen - 1] as ReceivedEvent & { stale: { previous: string; current: string; dependents: Array<{ repository: string; digest: string; tags: string[] }> } };
      assert.equal(stale.stale.previous, base1.digest);
      assert.equal(stale.stale.current, base2.digest);
      assert.deepEqual(stale.stale.dependents.map((d) => [d.repository, d.digest, d.tags]), [['team/app', app.digest, ['1']]]);
    });

    it('a tag move with nothing built on the previous digest sends no stale event', async () => {
      const other = makeImage('unrelated', [Buffer.from('unrelated layer\n')]);
      assert.ok(await pushImage(registry.url, 'team/app', 'scratch', other));
      const again = makeImage('unrelated 2', [Buffer.from('unrelated layer\n')]);
      assert.ok(await pushImage(registry.url, 'team/app', 'scratch', again));
      assert.deepEqual(await next(5), [
        `push team/app - ${sha256(other.config)} ${BLOB} -`,
        `push team/app - ${sha256(other.layers[0]!)} ${BLOB} -`,
        `push team/app scratch ${other.digest} ${MANIFEST} -`,
        `push team/app - ${sha256(again.config)} ${BLOB} -`,
        `push team/app scratch ${again.digest} ${MANIFEST} -`,
      ]);
    });

    it('deletes of a tag, a manifest and a blob', async () => {
      assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/scratch`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${registry.url}/v2/base/os/manifests/${base1.digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${registry.url}/v2/base/os/blobs/${sha256(base1.config)}`, { method: 'DELETE' })).status, 202);
      assert.deepEqual(await next(3), [
        `delete team/app scratch - - -`,
        `delete base/os - ${base1.digest} - -`,
        `delete base/os - ${sha256(base1.config)} ${BLOB} -`,
      ]);
      // Nothing else arrives (no duplicate, no stray event).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(receiver.events().length, seen);
    });

    it('every request is signed, in distribution\'s envelope, with the request, actor and source fields', () => {
      for (const request of receiver.requests) {
        assert.equal(request.headers['content-type'], 'application/vnd.docker.distribution.events.v2+json');
        const expected = `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`;
        assert.equal(request.headers['dockyard-signature'], expected);
      }
      const ids = receiver.events().map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'each event id once');
      const push = receiver.events().find((e) => e.action === 'push' && (e.target as { tag?: string }).tag === '1')!;
      assert.match(String(push.timestamp), /^\d{4}-\d\d-\d\dT/);
      const target = push.target as { size: number; length: number; url: string };
      assert.equal(target.size, base1.manifest.length);
      assert.equal(target.length, target.size);
      assert.equal(target.url, `${registry.url}/v2/base/os/manifests/${base1.digest}`);
      const request = push.request as { id: string; method: string; host: string; addr: string; useragent: string };
      assert.equal(request.method, 'PUT');
      assert.equal(request.host, registry.url.slice('http://'.length));
      assert.ok(request.id.length > 0 && request.addr.length > 0);
      assert.ok((push.source as { instanceID: string }).instanceID.length > 0);
    });
  });
}
