// The admin REST API through a real port: who may use it, every resource, the error
// envelope with 400/401/403/404/409, key rotation and the audit query.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_API_AUDIENCE } from '../../../services/auth/admin-gate.js';
import { adminApi, ADMIN_PASSWORD, basic, createUser, getToken, postToken, SERVICE, startHarness, type AuthHarness, type Reply } from './harness.js';

let h: AuthHarness;

before(async () => {
  h = await startHarness();
  await createUser(h, 'plain', 'plain-password');
});
after(async () => {
  await h?.close();
});

function errorCode(r: Reply): string | undefined {
  return (r.body.errors as Array<{ code: string }> | undefined)?.[0]?.code;
}

test('no credentials → 401 with a Basic challenge; wrong password → 401; non-admin → 403', async () => {
  const none = await fetch(`${h.url}/api/v1/users`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
  assert.equal((await adminApi(h, 'GET', '/users', undefined, basic('admin', 'wrong-password'))).status, 401);
  const plain = await adminApi(h, 'GET', '/users', undefined, basic('plain', 'plain-password'));
  assert.equal(plain.status, 403);
  assert.equal(errorCode(plain), 'DENIED');
});

test('an admin API token of an admin works; of a non-admin 403; a registry token, garbage or anonymous 401', async () => {
  const apiToken = async (username: string, password: string): Promise<string> => {
    const r = await postToken(h, { grant_type: 'password', username, password, client_id: 'admin-test', service: ADMIN_API_AUDIENCE });
    assert.equal(r.status, 200, r.text);
    return String(r.body.token);
  };
  const ok = await adminApi(h, 'GET', '/users', undefined, `Bearer ${await apiToken('admin', ADMIN_PASSWORD)}`);
  assert.equal(ok.status, 200);
  assert.equal((await adminApi(h, 'GET', '/users', undefined, `Bearer ${await apiToken('plain', 'plain-password')}`)).status, 403);
  const registryToken = String((await getToken(h, [['service', SERVICE]], basic('admin', ADMIN_PASSWORD))).body.token);
  assert.equal((await adminApi(h, 'GET', '/users', undefined, `Bearer ${registryToken}`)).status, 401);
  assert.equal((await adminApi(h, 'GET', '/users', undefined, 'Bearer not.a.token')).status, 401);
  const anonymous = String((await getToken(h, [['service', SERVICE]])).body.token);
  assert.equal((await adminApi(h, 'GET', '/users', undefined, `Bearer ${anonymous}`)).status, 401);
});

test('users: create, get, list without hashes, disable/enable, promote, password, delete', async () => {
  const created = await adminApi(h, 'POST', '/users', { name: 'ursula', password: 'ursula-password' });
  assert.equal(created.status, 201);
  assert.deepEqual([created.body.name, created.body.admin, created.body.disabled], ['ursula', false, false]);
  assert.equal((await adminApi(h, 'POST', '/users', { name: 'ursula', password: 'ursula-password' })).status, 409);
  const list = await adminApi(h, 'GET', '/users');
  assert.ok((list.body.users as Array<{ name: string }>).some((u) => u.name === 'ursula'));
  assert.ok(!list.text.includes('$2') && !/hash/i.test(list.text), 'hashes must not leave the service');
  assert.equal((await adminApi(h, 'PATCH', '/users/ursula', { disabled: true })).body.disabled, true);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('ursula', 'ursula-password'))).status, 401);
  assert.equal((await adminApi(h, 'PATCH', '/users/ursula', { disabled: false, admin: true })).body.admin, true);
  assert.equal((await adminApi(h, 'GET', '/users', undefined, basic('ursula', 'ursula-password'))).status, 200, 'promoted user is admin at once');
  assert.equal((await adminApi(h, 'PUT', '/users/ursula/password', { password: 'ursula-new-password' })).status, 204);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('ursula', 'ursula-new-password'))).status, 200);
  assert.equal((await adminApi(h, 'DELETE', '/users/ursula')).status, 204);
  assert.equal((await adminApi(h, 'GET', '/users/ursula')).status, 404);
  assert.equal((await adminApi(h, 'DELETE', '/users/ursula')).status, 404);
});

test('users: bad input is a 400 with a message', async () => {
  const cases: Array<[string, string, unknown]> = [
    ['POST', '/users', { name: 'bad name', password: 'long-enough' }],
    ['POST', '/users', { name: 'robot$x', password: 'long-enough' }],
    ['POST', '/users', { name: 'shorty', password: 'short' }],
    ['POST', '/users', { name: 'toolong', password: 'x'.repeat(73) }],
    ['POST', '/users', { name: 'adminflag', password: 'long-enough', admin: 'yes' }],
    ['PATCH', '/users/plain', { disabled: 'no' }],
    ['PATCH', '/users/plain', {}],
    ['PUT', '/users/plain/password', { password: 123 }],
  ];
  for (const [method, path, body] of cases) {
    const r = await adminApi(h, method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
    assert.equal(errorCode(r), 'REQUEST_INVALID');
  }
  const notJson = await fetch(`${h.url}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
    body: '{"name":',
  });
  assert.equal(notJson.status, 400);
});

test('the last enabled admin cannot lock everyone out (409)', async () => {
  const r = await adminApi(h, 'PATCH', '/users/admin', { disabled: true });
  assert.equal(r.status, 409);
  assert.equal(errorCode(r), 'CONFLICT');
  assert.equal((await adminApi(h, 'DELETE', '/users/admin')).status, 409);
});

test('groups: create, add and remove members, list, delete', async () => {
  assert.equal((await adminApi(h, 'POST', '/groups', { name: 'qa' })).status, 201);
  assert.equal((await adminApi(h, 'POST', '/groups', { name: 'qa' })).status, 409);
  assert.equal((await adminApi(h, 'PUT', '/groups/qa/members/plain')).status, 204);
  assert.equal((await adminApi(h, 'PUT', '/groups/qa/members/plain')).status, 409);
  assert.equal((await adminApi(h, 'PUT', '/groups/qa/members/ghost')).status, 404);
  assert.equal((await adminApi(h, 'PUT', '/groups/nope/members/plain')).status, 404);
  assert.deepEqual((await adminApi(h, 'GET', '/groups/qa')).body.members, ['plain']);
  assert.ok((await adminApi(h, 'GET', '/groups')).text.includes('"qa"'));
  assert.equal((await adminApi(h, 'DELETE', '/groups/qa/members/plain')).status, 204);
  assert.equal((await adminApi(h, 'DELETE', '/groups/qa/members/plain')).status, 404);
  assert.equal((await adminApi(h, 'DELETE', '/groups/qa')).status, 204);
  assert.equal((await adminApi(h, 'GET', '/groups/qa')).status, 404);
});

test('grants: add (merging), list by subject, remove; bad input 400, unknown subject 404', async () => {
  const first = await adminApi(h, 'POST', '/grants', { subject: 'user:plain', pattern: 'plain/**', actions: 'pull' });
  assert.equal(first.status, 201);
  const merged = await adminApi(h, 'POST', '/grants', { subject: 'user:plain', pattern: 'plain/**', actions: ['push'] });
  assert.equal(merged.body.id, first.body.id);
  assert.deepEqual(merged.body.actions, ['pull', 'push']);
  const list = await adminApi(h, 'GET', '/grants?subject=user:plain');
  assert.deepEqual((list.body.grants as Array<{ pattern: string }>).map((g) => g.pattern), ['plain/**']);
  assert.equal((await adminApi(h, 'POST', '/grants', { subject: 'user:ghost', pattern: 'x', actions: 'pull' })).status, 404);
  assert.equal((await adminApi(h, 'POST', '/grants', { subject: 'everyone', pattern: 'x', actions: 'pull' })).status, 400);
  assert.equal((await adminApi(h, 'POST', '/grants', { subject: 'anonymous', pattern: 'X/Y', actions: 'pull' })).status, 400);
  assert.equal((await adminApi(h, 'POST', '/grants', { subject: 'anonymous', pattern: 'x', actions: 'steal' })).status, 400);
  assert.equal((await adminApi(h, 'GET', '/grants?subject=bogus')).status, 400);
  assert.equal((await adminApi(h, 'DELETE', `/grants/${String(first.body.id)}`)).status, 204);
  assert.equal((await adminApi(h, 'DELETE', `/grants/${String(first.body.id)}`)).status, 404);
  assert.equal((await adminApi(h, 'DELETE', '/grants/abc')).status, 400);
});

test('keys/rotate: a new kid signs, the old key stays published', async () => {
  const before = (await (await fetch(`${h.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
  const rotated = await adminApi(h, 'POST', '/keys/rotate');
  assert.equal(rotated.status, 200);
  const after = (await (await fetch(`${h.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
  assert.equal(after.keys[0].kid, rotated.body.kid);
  assert.equal(before.keys[1]?.kid, rotated.body.kid, 'the key that signs now was published (second) before the rotation');
  assert.ok(after.keys.some((k) => k.kid === before.keys[0].kid), 'previous key still published');
  const token = String((await getToken(h, [['service', SERVICE]], basic('plain', 'plain-password'))).body.token);
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string };
  assert.equal(header.kid, rotated.body.kid);
  const pem = await (await fetch(`${h.url}/certs.pem`)).text();
  assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, after.keys.length);
});

test('audit: admin changes are recorded with the acting admin; filters and paging work', async () => {
  await adminApi(h, 'POST', '/users', { name: 'audited', password: 'audited-password' });
  const page = await adminApi(h, 'GET', '/audit?action=user.create&target=user:audited');
  const entries = page.body.entries as Array<{ actor: string; outcome: string; clientAddress: string }>;
  assert.equal(entries.length, 1);
  assert.equal(entries[0].actor, 'admin');
  assert.match(entries[0].clientAddress, /127\.0\.0\.1/);
  assert.ok(!page.text.includes('audited-password'));
  const first = await adminApi(h, 'GET', '/audit?limit=2');
  assert.equal((first.body.entries as unknown[]).length, 2);
  const next = await adminApi(h, 'GET', `/audit?limit=2&before=${String(first.body.nextBefore)}`);
  const ids = [...(first.body.entries as Array<{ id: number }>), ...(next.body.entries as Array<{ id: number }>)].map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  assert.equal(new Set(ids).size, 4);
  const since = await adminApi(h, 'GET', `/audit?since=${new Date(Date.now() + 3600_000).toISOString()}`);
  assert.deepEqual(since.body.entries, []);
  assert.equal((await adminApi(h, 'GET', '/audit?limit=0')).status, 400);
  assert.equal((await adminApi(h, 'GET', '/audit?limit=100000')).status, 400);
  assert.equal((await adminApi(h, 'GET', '/audit?since=yesterday')).status, 400);
});

test('unknown admin paths are 404 and wrong methods 405, in the JSON envelope', async () => {
  const missing = await adminApi(h, 'GET', '/nothing-here');
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing), 'NOT_FOUND');
  const method = await adminApi(h, 'PATCH', '/groups');
  assert.equal(method.status, 405);
  const health = await fetch(`${h.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
});
