/**
 * Endpoints managed by admins: `npm run admin -- notifications add|list|remove|deliveries|
 * redeliver` and the same through `/v2/_dockyard/notifications/…`. Repository patterns
 * filter events, secrets are sealed in the database and never shown again, every change
 * is audited, an endpoint from the configuration file cannot be removed through the API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import knexFactory from 'knex';
import { makeImage, pushImage } from '../lifecycle/harness.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { startNotifyRegistry, type NotifyRegistry } from './harness.js';

const SECRET = 'cli-secret-abcdefghijkl';
const API_SECRET = 'api-secret-abcdefghijkl';

describe('notification endpoints managed by admins (CLI and API)', () => {
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;
  let registry: NotifyRegistry;

  before(async () => {
    receiver = await WebhookReceiver.start();
    other = await WebhookReceiver.start();
    registry = await startNotifyRegistry('sqlite', [{ name: 'from-config', url: other.url, ignore: { actions: ['pull'] }, disabled: true }]);
  });
  after(async () => {
    await registry?.close();
    await receiver?.close();
    await other?.close();
  });

  it('notifications add with --secret and --repos: only matching repositories, signed; list shows no secret', async () => {
    const added = await registry.admin(['notifications', 'add', 'ci', receiver.url, '--secret', SECRET, '--repos', 'team/**']);
    assert.equal(added.code, 0, added.err);
    assert.match(added.out, /added endpoint ci -> .* for team\/\*\* \(signed\)/);
    const listed = await registry.admin(['notifications', 'list', '--json']);
    assert.equal(listed.code, 0, listed.err);
    assert.ok(!listed.out.includes(SECRET));
    const endpoints = JSON.parse(listed.out) as Array<{ name: string; signed: boolean; repositoryPattern: string; source: string }>;
    assert.deepEqual(endpoints.map((e) => [e.name, e.signed, e.repositoryPattern, e.source]), [['ci', true, 'team/**', 'api'], ['from-config', false, null, 'config']]);

    assert.ok(await pushImage(registry.url, 'other/app', '1', makeImage('other', [Buffer.from('o\n')])));
    assert.ok(await pushImage(registry.url, 'team/app', '1', makeImage('team', [Buffer.from('t\n')])));
    const events = await receiver.waitFor((all) => all.some((e) => e.action === 'push' && (e.target as { tag?: string }).tag === '1'));
    assert.ok(events.every((e) => (e.target as { repository: string }).repository === 'team/app'), 'only team/** events');
    assert.ok(receiver.requests.every((r) => typeof r.headers['dockyard-signature'] === 'string'));
  });

  it('the secret is sealed in the database, not stored as written', async () => {
    const db = knexFactory({ client: 'better-sqlite3', connection: { filename: (registry.config.database as { filename: string }).filename }, useNullAsDefault: true });
    try {
      const rows: Array<{ name: string; secret_sealed: string | null }> = await db('notification_endpoints').select('name', 'secret_sealed');
      const sealed = rows.find((r) => r.name === 'ci')!.secret_sealed!;
      assert.match(sealed, /^v1:/);
      assert.ok(!sealed.includes(SECRET) && !Buffer.from(sealed.slice(3), 'base64').toString('latin1').includes(SECRET));
    } finally {
      await db.destroy();
    }
  });

  it('deliveries shows the log; redeliver sends one event again with the same id', async () => {
    const log = await registry.admin(['notifications', 'deliveries', 'ci', '--json']);
    assert.equal(log.code, 0, log.err);
    const entries = JSON.parse(log.out) as Array<{ id: number; eventId: string; status: string; attempts: number; lastError: string | null }>;
    assert.ok(entries.length >= 3);
    assert.ok(entries.every((e) => e.status === 'delivered' && e.attempts === 1 && e.lastError === null));
    const text = await registry.admin(['notifications', 'deliveries']);
    assert.match(text.out, /ID\s+ENDPOINT\s+EVENT\s+ACTION\s+REPOSITORY\s+STATUS\s+ATTEMPTS\s+LAST ERROR/);
    const before = receiver.events().length;
    const again = await registry.admin(['notifications', 'redeliver', String(entries[0]!.id)]);
    assert.equal(again.code, 0, again.err);
    const events = await receiver.waitFor((all) => all.length > before);
    assert.equal(events.at(-1)!.id, entries[0]!.eventId);
    assert.equal((await registry.admin(['notifications', 'redeliver', '999999'])).code, 1);
  });

  it('the API adds, lists and removes endpoints; a secret never comes back; a config endpoint cannot be removed', async () => {
    const base = `${registry.url}/v2/_dockyard/notifications`;
    const json = { 'Content-Type': 'application/json' };
    const created = await fetch(`${base}/endpoints`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'api-hook', url: other.url, secret: API_SECRET, repositories: 'base/*', timeout: '2s' }) });
    const createdText = await created.text();
    assert.equal(created.status, 201, createdText);
    assert.ok(!createdText.includes(API_SECRET));
    const bad = await fetch(`${base}/endpoints`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'bad', url: 'ftp://x', repositories: 'a//b' }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { errors: Array<{ message: string }> }).errors[0]!.message, /^repositories: expected a repository pattern/);
    assert.equal((await fetch(`${base}/endpoints`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'api-hook', url: other.url }) })).status, 409);
    const listed = await fetch(`${base}/endpoints`);
    const listedText = await listed.text();
    assert.ok(!listedText.includes(API_SECRET) && !listedText.includes(SECRET));
    assert.deepEqual((JSON.parse(listedText) as { endpoints: Array<{ name: string }> }).endpoints.map((e) => e.name), ['api-hook', 'ci', 'from-config']);
    assert.equal((await fetch(`${base}/endpoints/from-config`, { method: 'DELETE' })).status, 415, 'writes must say JSON');
    assert.equal((await fetch(`${base}/endpoints/from-config`, { method: 'DELETE', headers: json })).status, 409);
    assert.equal((await fetch(`${base}/endpoints/api-hook`, { method: 'DELETE', headers: json })).status, 200);
    assert.equal((await fetch(`${base}/endpoints/api-hook`, { method: 'DELETE', headers: json })).status, 404);
    const deliveries = await fetch(`${base}/deliveries?endpoint=ci&limit=2`);
    assert.equal(((await deliveries.json()) as { deliveries: unknown[] }).deliveries.length, 2);
  });

  it('every change is in the audit log with its actor', async () => {
    const audit = (await (await fetch(`${registry.url}/v2/_dockyard/audit`)).json()) as { entries: Array<{ actor: string; action: string; target: string }> };
    const mine = audit.entries.filter((e) => e.action.startsWith('notification_')).map((e) => [e.actor.split(':')[0], e.action, e.target]);
    assert.deepEqual(mine.reverse(), [
      ['cli', 'notification_endpoint.add', 'endpoint ci'],
      ['cli', 'notification_delivery.redeliver', mine.find((m) => m[1] === 'notification_delivery.redeliver')![2]],
      ['api', 'notification_endpoint.add', 'endpoint api-hook'],
      ['api', 'notification_endpoint.remove', 'endpoint api-hook'],
    ]);
  });

  it('notifications remove NAME', async () => {
    const removed = await registry.admin(['notifications', 'remove', 'ci']);
    assert.equal(removed.code, 0, removed.err);
    assert.equal((await registry.admin(['notifications', 'remove', 'ci'])).code, 1);
    assert.equal((await registry.admin(['notifications', 'add', 'x', 'not a url'])).code, 1);
  });
});
