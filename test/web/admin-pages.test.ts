// The web UI's administration pages for the registry's policies and logs (tag rules, quotas,
// retention, garbage collection, notifications, audit) over plain HTTP: a non-admin or
// anonymous visitor gets 403 for every page and every form and changes nothing; every
// form needs the session's CSRF token; an admin's forms change the registry through its
// admin API and a refused change is told on the page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, addGrant, addUser, PageClient, pushMultiArch, registryToken, startWebStack, type WebStack } from '../support/web-stack.js';

const ALICE = { name: 'alice', password: 'alice-pw-admin-pages' };

const PAGES = ['/admin', '/admin/rules', '/admin/quotas', '/admin/quotas?namespace=team', '/admin/retention', '/admin/gc', '/admin/notifications', '/admin/audit'];

/** Every form the new pages post, with fields that would change something. */
const FORMS: Array<[string, Record<string, string>]> = [
  ['/admin/robots', { name: 'forged', expires: '' }],
  ['/admin/grants', { subject: 'user:alice', pattern: '**', actions: '*' }],
  ['/admin/grants/1/delete', {}],
  ['/admin/rules', { kind: 'immutable', repositoryPattern: 'team/**', tagPattern: 'v*' }],
  ['/admin/rules/1/delete', {}],
  ['/admin/rules/presets/release', {}],
  ['/admin/quotas', { namespace: 'team', hard: '1GB', soft: '' }],
  ['/admin/quotas/delete', { namespace: 'team' }],
  ['/admin/retention', { repositoryPattern: 'team/**', tagPattern: '*', keepLast: '1', keepDays: '', basis: 'push' }],
  ['/admin/retention/1/delete', {}],
  ['/admin/retention/dry-run', {}],
  ['/admin/gc/runs', { mode: 'run' }],
  ['/admin/notifications/endpoints', { name: 'hook', url: 'http://127.0.0.1:9/hook', repositories: '', secret: '' }],
  ['/admin/notifications/endpoints/hook/delete', {}],
  ['/admin/notifications/deliveries/1/redeliver', {}],
];

describe('web UI administration pages for the registry', () => {
  let stack: WebStack;
  let adminToken: string;
  const registryGet = async (path: string) => {
    const res = await fetch(`${stack.registryUrl}${path}`, { headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as Record<string, unknown[]>;
  };
  /** What the forms could have changed, read from the registry's admin API. */
  const policyState = async () => ({
    rules: (await registryGet('/v2/_dockyard/rules')).rules,
    quotas: (await registryGet('/v2/_dockyard/quotas')).quotas,
    policies: (await registryGet('/v2/_dockyard/retention')).policies,
    endpoints: (await registryGet('/v2/_dockyard/notifications/endpoints')).endpoints,
    gc: await registryGet('/v2/_dockyard/gc'),
    grants: await authGet('/grants'),
    robots: await authGet('/robots'),
  });
  const authGet = async (path: string) => {
    const res = await fetch(`${stack.authUrl}/api/v1${path}`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}` } });
    assert.equal(res.status, 200, path);
    return res.json();
  };

  before(async () => {
    stack = await startWebStack();
    await addUser(stack, ALICE.name, ALICE.password);
    await addGrant(stack, 'user:alice', 'team/*', 'pull,push,delete');
    await pushMultiArch(stack, ALICE, 'team/app', ['v1', 'latest']);
    adminToken = await registryToken(stack, 'registry:catalog:*', ADMIN);
  });
  after(() => stack?.close());

  it('refuses a non-admin and an anonymous visitor every page and every form, changing nothing', async () => {
    const before = await policyState();
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    const anonymous = new PageClient(stack.webUrl);
    for (const client of [alice, anonymous]) {
      for (const path of PAGES) {
        const page = await client.request(path);
        assert.equal(page.status, 403, path);
        assert.match(page.text, /for administrators only/);
        assert.doesNotMatch(page.text, /team\/app|Quota|Rules \(/);
      }
      const csrf = await client.csrf(client === alice ? '/' : '/login');
      for (const [path, fields] of FORMS) assert.equal((await client.post(path, { _csrf: csrf, ...fields })).status, 403, `POST ${path}`);
    }
    assert.deepEqual(await policyState(), before);
  });

  it('requires the CSRF token on every form', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const before = await policyState();
    for (const [path, fields] of FORMS) {
      assert.equal((await admin.post(path, fields)).status, 403, `POST ${path} without the token`);
      assert.equal((await admin.post(path, { _csrf: 'x'.repeat(43), ...fields })).status, 403, `POST ${path} with a wrong token`);
    }
    assert.deepEqual(await policyState(), before);
  });

  it('lets an admin add and remove a tag rule and apply the release preset, and says why a bad rule is refused', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const csrf = await admin.csrf('/admin/rules');
    const added = await admin.post('/admin/rules', { _csrf: csrf, kind: 'forbidden', repositoryPattern: 'team/*', tagPattern: 'latest' });
    assert.equal(added.status, 303);
    assert.equal(added.headers.get('location'), '/admin/rules');
    const page = await admin.request('/admin/rules');
    assert.match(page.text, /is in force/);
    assert.match(page.text, /<td>forbidden<\/td><td><code>team\/\*<\/code><\/td><td><code>latest<\/code><\/td>/);
    const [rule] = (await registryGet('/v2/_dockyard/rules')).rules as Array<{ id: number }>;
    assert.equal((await admin.post('/admin/rules', { _csrf: csrf, kind: 'immutable', repositoryPattern: 'team/**/x', tagPattern: 'v*' })).status, 303);
    assert.match((await admin.request('/admin/rules')).text, /Not done: repository pattern &quot;team\/\*\*\/x&quot;/);
    assert.equal((await admin.post('/admin/rules/presets/release', { _csrf: csrf })).status, 303);
    assert.equal((await registryGet('/v2/_dockyard/rules')).rules.length, 5);
    assert.equal((await admin.post(`/admin/rules/${rule!.id}/delete`, { _csrf: csrf })).status, 303);
    assert.match((await admin.request('/admin/rules')).text, new RegExp(`Removed rule ${rule!.id} \\(forbidden team/\\* latest\\)`));
    assert.equal((await registryGet('/v2/_dockyard/rules')).rules.length, 4);
  });

  it('lets an admin set and remove a quota and see a namespace\'s usage', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const csrf = await admin.csrf('/admin/quotas');
    assert.equal((await admin.post('/admin/quotas', { _csrf: csrf, namespace: 'team', hard: '1GB', soft: '500MiB' })).status, 303);
    assert.deepEqual((await registryGet('/v2/_dockyard/quotas')).quotas.map((q) => (q as { hardBytes: number; softBytes: number }).softBytes), [500 * 1024 * 1024]);
    const page = await admin.request('/admin/quotas');
    assert.match(page.text, /Quota of team set: hard limit 1\.0 GB, soft limit 524 MB/);
    assert.match(page.text, /<td><code>team<\/code><\/td><td>[\d.]+ kB <span class="muted">0% of the hard limit<\/span>/);
    assert.match((await admin.request('/admin/quotas?namespace=team')).text, /Namespace <code>team<\/code> uses [\d.]+ kB; hard limit 1\.0 GB/);
    assert.equal((await admin.post('/admin/quotas', { _csrf: csrf, namespace: 'team', hard: 'lots' })).status, 303);
    assert.match((await admin.request('/admin/quotas')).text, /Not done: the hard limit must be a size/);
    assert.equal((await admin.post('/admin/quotas/delete', { _csrf: csrf, namespace: 'team' })).status, 303);
    assert.deepEqual((await registryGet('/v2/_dockyard/quotas')).quotas, []);
  });

  it('lets an admin add a retention policy and see its dry run, which removes nothing', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const csrf = await admin.csrf('/admin/retention');
    assert.equal((await admin.post('/admin/retention', { _csrf: csrf, repositoryPattern: 'team/*', tagPattern: '*', keepLast: '0', keepDays: '', basis: 'push' })).status, 303);
    assert.match((await admin.request('/admin/retention')).text, /Retention policy \d+ added: in team\/\* it keeps the last 0 of the tags \*/);
    const dry = await admin.post('/admin/retention/dry-run', { _csrf: csrf });
    assert.equal(dry.status, 200);
    assert.match(dry.text, /A run now would remove 2 tags/);
    assert.match(dry.text, /<td>team\/app<\/td><td>latest<\/td>/);
    const tags = await fetch(`${stack.registryUrl}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${await registryToken(stack, 'repository:team/app:pull', ALICE)}` } });
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['latest', 'v1']);
    const [policy] = (await registryGet('/v2/_dockyard/retention')).policies as Array<{ id: number }>;
    assert.equal((await admin.post(`/admin/retention/${policy!.id}/delete`, { _csrf: csrf })).status, 303);
    assert.deepEqual((await registryGet('/v2/_dockyard/retention')).policies, []);
  });

  it('lets an admin start a garbage collection dry run and read its report', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const csrf = await admin.csrf('/admin/gc');
    assert.match((await admin.request('/admin/gc')).text, /No run has been started here/);
    assert.equal((await admin.post('/admin/gc/runs', { _csrf: csrf, mode: 'dry-run' })).status, 303);
    let text = '';
    for (let i = 0; i < 100 && !/Last run<\/h2><p>A dry run/.test(text); i++) {
      text = (await admin.request('/admin/gc')).text;
      if (!/Last run<\/h2><p>A dry run/.test(text)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(text, /Last run<\/h2><p>A dry run started by api:admin/);
    assert.match(text, /Would free 0 B<\/strong> in [\d.]+ s: it would delete 0 manifests, 0 blob links and 0 blobs/);
    // A real run (nothing is old enough to delete here) goes into the registry's audit log.
    assert.equal((await admin.post('/admin/gc/runs', { _csrf: csrf, mode: 'run' })).status, 303);
    // The audit entry is written before the run shows as finished.
    for (let i = 0; i < 100 && !/Last run<\/h2><p>A run started/.test(text); i++) {
      text = (await admin.request('/admin/gc')).text;
      if (!/Last run<\/h2><p>A run started/.test(text)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(text, /Last run<\/h2><p>A run started by api:admin/);
    assert.match((await admin.request('/admin/audit')).text, /<td>api:admin<\/td><td>gc\.run<\/td><td>gc<\/td>/);
  });

  it('lets an admin add and remove a notification endpoint and read its delivery log', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const csrf = await admin.csrf('/admin/notifications');
    assert.equal((await admin.post('/admin/notifications/endpoints', { _csrf: csrf, name: 'hook', url: 'http://127.0.0.1:9/hook', repositories: 'team/**', secret: 's3cret-that-is-long-enough' })).status, 303);
    const added = await admin.request('/admin/notifications');
    assert.match(added.text, /Endpoint hook added/);
    assert.doesNotMatch(added.text, /s3cret-that-is-long-enough/);
    await pushMultiArch(stack, ALICE, 'team/app', ['v2'], 'notify');
    let log = '';
    for (let i = 0; i < 50 && !/push <code>team\/app<\/code>/.test(log); i++) {
      log = (await admin.request('/admin/notifications?endpoint=hook')).text;
      if (!/push <code>team\/app<\/code>/.test(log)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(log, /Delivery log of hook/);
    assert.match(log, /<td>hook<\/td><td>push <code>team\/app<\/code><\/td>/);
    assert.equal((await admin.post('/admin/notifications/endpoints/hook/delete', { _csrf: csrf })).status, 303);
    assert.deepEqual((await registryGet('/v2/_dockyard/notifications/endpoints')).endpoints, []);
    const stale = await admin.request('/admin/notifications?endpoint=hook');
    assert.equal(stale.status, 200, 'a link to a removed endpoint shows the whole log');
    assert.match(stale.text, /<h2 id="deliveries-h">Delivery log<\/h2>/);
    assert.equal((await admin.post('/admin/notifications/endpoints', { _csrf: csrf, name: 'bad', url: 'ftp://x' })).status, 303);
    assert.match((await admin.request('/admin/notifications')).text, /Not done: /);
  });

  it('shows the auth service\'s audit log, filtered and paged, and the registry\'s policy changes', async () => {
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    const page = await admin.request('/admin/audit');
    assert.equal(page.status, 200);
    assert.match(page.text, /<td>user\.create<\/td><td>user:alice<\/td>/);
    assert.match(page.text, /<td>api:admin<\/td><td>tag_rule\.add<\/td>/);
    const filtered = await admin.request('/admin/audit?action=grant.add');
    assert.doesNotMatch(filtered.text, /<td>user\.create<\/td>/);
    assert.match(filtered.text, /value="grant\.add"/);
  });

  it('tells a user who may delete why an immutable tag was not deleted, and keeps it', async () => {
    const res = await fetch(`${stack.registryUrl}/v2/_dockyard/rules`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'immutable', repositoryPattern: 'team/*', tagPattern: 'v*' }) });
    assert.equal(res.status, 201);
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    const csrf = await alice.csrf('/r/team/app/-/tags/v1/delete');
    const refused = await alice.post('/r/team/app/-/tags/v1/delete', { _csrf: csrf });
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.get('location'), '/r/team/app/-/tags/v1');
    const page = await alice.request('/r/team/app/-/tags/v1');
    assert.equal(page.status, 200);
    assert.match(page.text, /Not deleted: tag &quot;v1&quot; in team\/app is immutable by rule \d+ \(immutable team\/\* v\*\)/);
    assert.match((await alice.request('/r/team/app')).text, /<a href="\/r\/team\/app\/-\/tags\/v1">v1<\/a> <span class="badge rule-immutable">immutable<\/span>/);
  });
});
