// POST /token (OAuth2 form) through a real port: the password grant, docker's refresh
// token flow without an Authorization header, and every way a refresh token stops working.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessOf, adminApi, basic, createUser, getToken, postToken, SERVICE, startHarness, type AuthHarness, type Reply } from './harness.js';

let h: AuthHarness;

before(async () => {
  // Every request here comes from 127.0.0.1 and many fail on purpose; throttling has its own test.
  h = await startHarness({ env: { AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' } });
});
after(async () => {
  await h?.close();
});

function errorCode(r: Reply): string | undefined {
  return (r.body.errors as Array<{ code: string }> | undefined)?.[0]?.code;
}

/** docker login: GET with offline_token; returns the refresh token docker keeps as identity token. */
async function dockerLogin(user: string, password: string, clientId = 'docker'): Promise<string> {
  const r = await getToken(h, [['account', user], ['client_id', clientId], ['offline_token', 'true'], ['service', SERVICE]], basic(user, password));
  assert.equal(r.status, 200, r.text);
  return String(r.body.refresh_token);
}

function refresh(token: string, scope = 'repository:team/app:push,pull', clientId = 'docker', service = SERVICE): Promise<Reply> {
  return postToken(h, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId, scope, service });
}

test('grant_type=password with access_type=offline returns a token and a refresh_token', async () => {
  await createUser(h, 'pat', 'pat-password', [['team/*', 'pull,push']]);
  const r = await postToken(h, { grant_type: 'password', username: 'pat', password: 'pat-password', client_id: 'docker', access_type: 'offline', service: SERVICE, scope: 'repository:team/app:pull' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.access_token, r.body.token);
  assert.equal(typeof r.body.expires_in, 'number');
  assert.equal(typeof r.body.issued_at, 'string');
  assert.equal(r.body.scope, 'repository:team/app:pull');
  assert.match(String(r.body.refresh_token), /^[A-Za-z0-9_-]{43}$/);
  const online = await postToken(h, { grant_type: 'password', username: 'pat', password: 'pat-password', client_id: 'docker', service: SERVICE });
  assert.equal(online.status, 200);
  assert.equal(online.body.refresh_token, undefined);
});

test('grant_type=password with a wrong password → 401, same body as an unknown user', async () => {
  const wrong = await postToken(h, { grant_type: 'password', username: 'pat', password: 'nope-nope', client_id: 'docker', service: SERVICE });
  const unknown = await postToken(h, { grant_type: 'password', username: 'nobody-at-all', password: 'nope-nope', client_id: 'docker', service: SERVICE });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.text, unknown.text);
  assert.equal(unknown.status, 401);
});

test('refresh_token grant without Authorization: space separated scopes, granted subset in `scope`', async () => {
  await createUser(h, 'rita', 'rita-password', [['team/*', 'pull,push'], ['base/*', 'pull']]);
  const rt = await dockerLogin('rita', 'rita-password');
  const r = await refresh(rt, 'repository:team/app:push,pull repository:base/img:pull,push repository:secret/x:pull');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(accessOf(String(r.body.access_token)), [
    { type: 'repository', name: 'team/app', actions: ['push', 'pull'] },
    { type: 'repository', name: 'base/img', actions: ['pull'] },
  ]);
  assert.equal(r.body.scope, 'repository:team/app:push,pull repository:base/img:pull');
  assert.equal(r.body.refresh_token, undefined, 'refresh tokens are not rotated (docker keeps the one from login)');
  const again = await refresh(rt);
  assert.equal(again.status, 200, 'a refresh token is reusable');
});

test('refresh token is bound to client_id and service', async () => {
  await createUser(h, 'cid', 'cid-password');
  const rt = await dockerLogin('cid', 'cid-password');
  const otherClient = await refresh(rt, '', 'not-docker');
  assert.equal(otherClient.status, 401);
  assert.equal(errorCode(otherClient), 'UNAUTHORIZED');
  const otherService = await refresh(rt, '', 'docker', 'other-service');
  assert.equal(otherService.status, 400, 'a foreign service is refused before the token is looked at');
  assert.equal((await refresh(rt, '')).status, 200);
});

test('unknown or garbage refresh tokens → 401', async () => {
  assert.equal((await refresh('A'.repeat(43))).status, 401);
  assert.equal((await refresh('x'.repeat(5000))).status, 401);
});

test('a refresh token stops working when the password changes', async () => {
  await createUser(h, 'pwc', 'pwc-password');
  const rt = await dockerLogin('pwc', 'pwc-password');
  assert.equal((await refresh(rt)).status, 200);
  assert.equal((await adminApi(h, 'PUT', '/users/pwc/password', { password: 'pwc-new-password' })).status, 204);
  assert.equal((await refresh(rt)).status, 401);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('pwc', 'pwc-password'))).status, 401, 'old password refused');
  assert.equal((await getToken(h, [['service', SERVICE]], basic('pwc', 'pwc-new-password'))).status, 200, 'new password works');
});

test('a refresh token stops working when the user is disabled, and stays dead after re-enabling', async () => {
  await createUser(h, 'dis', 'dis-password');
  const rt = await dockerLogin('dis', 'dis-password');
  assert.equal((await adminApi(h, 'PATCH', '/users/dis', { disabled: true })).status, 200);
  assert.equal((await refresh(rt)).status, 401);
  assert.equal((await adminApi(h, 'PATCH', '/users/dis', { disabled: false })).status, 200);
  assert.equal((await refresh(rt)).status, 401);
});

test('a refresh token stops working when the user is deleted (and a new user of that name cannot use it)', async () => {
  await createUser(h, 'del', 'del-password');
  const rt = await dockerLogin('del', 'del-password');
  assert.equal((await adminApi(h, 'DELETE', '/users/del')).status, 204);
  await createUser(h, 'del', 'del-password-2');
  assert.equal((await refresh(rt)).status, 401);
});

test('an admin can revoke every refresh token of a subject', async () => {
  await createUser(h, 'rev', 'rev-password');
  const first = await dockerLogin('rev', 'rev-password');
  const second = await dockerLogin('rev', 'rev-password', 'other-client');
  const listed = await adminApi(h, 'GET', '/refresh-tokens?subject=user:rev');
  assert.deepEqual((listed.body.refreshTokens as Array<{ clientId: string }>).map((t) => t.clientId).sort(), ['docker', 'other-client']);
  assert.ok(!listed.text.includes(first) && !/hash/i.test(listed.text), 'neither tokens nor hashes are listed');
  const revoked = await adminApi(h, 'POST', '/refresh-tokens/revoke', { subject: 'user:rev' });
  assert.deepEqual([revoked.status, revoked.body.revoked], [200, 2]);
  assert.equal((await refresh(first)).status, 401);
  assert.equal((await refresh(second, '', 'other-client')).status, 401);
  assert.deepEqual((await adminApi(h, 'GET', '/refresh-tokens?subject=user:rev')).body.refreshTokens, []);
  assert.equal((await adminApi(h, 'GET', '/refresh-tokens?subject=group:x')).status, 400);
  assert.equal((await dockerLogin('rev', 'rev-password')).length, 43, 'logging in again still works');
});

test('a refresh token idle for longer than refreshTokens.idleSeconds is refused and revoked', async () => {
  await createUser(h, 'idle', 'idle-password');
  const rt = await dockerLogin('idle', 'idle-password');
  const idleSince = Date.now() - (h.config.refreshTokens.idleSeconds + 60) * 1000;
  await h.db('refresh_tokens').where({ subject_name: 'idle' }).update({ last_used_at: idleSince, created_at: idleSince });
  assert.equal((await refresh(rt)).status, 401);
  const row = await h.db('refresh_tokens').where({ subject_name: 'idle' }).first();
  assert.ok(row.revoked === 1 || row.revoked === true);
});

test('a refresh token that was used recently is not idle', async () => {
  await createUser(h, 'busy', 'busy-password');
  const rt = await dockerLogin('busy', 'busy-password');
  const almostIdle = Date.now() - (h.config.refreshTokens.idleSeconds - 120) * 1000;
  await h.db('refresh_tokens').where({ subject_name: 'busy' }).update({ last_used_at: almostIdle });
  assert.equal((await refresh(rt)).status, 200);
  const row = await h.db('refresh_tokens').where({ subject_name: 'busy' }).first();
  assert.ok(Number(row.last_used_at) > almostIdle, 'use must move last_used_at forward');
});

test('robots get refresh tokens too, and lose them when revoked', async () => {
  const robot = await adminApi(h, 'POST', '/robots', { name: 'deployer' });
  assert.equal(robot.status, 201);
  const rt = await dockerLogin(String(robot.body.username), String(robot.body.secret));
  assert.equal((await refresh(rt)).status, 200);
  assert.equal((await adminApi(h, 'POST', '/robots/deployer/revoke')).status, 204);
  assert.equal((await refresh(rt)).status, 401);
});

test('bad POST requests: no grant_type, unknown grant_type, missing fields, wrong content type → 400', async () => {
  const cases: Array<Record<string, string>> = [
    { client_id: 'docker', service: SERVICE },
    { grant_type: 'client_credentials', client_id: 'docker', service: SERVICE },
    { grant_type: 'password', username: 'pat', client_id: 'docker', service: SERVICE },
    { grant_type: 'password', username: 'pat', password: 'pat-password', service: SERVICE },
    { grant_type: 'refresh_token', client_id: 'docker', service: SERVICE },
  ];
  for (const form of cases) {
    const r = await postToken(h, form);
    assert.equal(r.status, 400, JSON.stringify(form));
    assert.equal(errorCode(r), 'REQUEST_INVALID');
  }
  const json = await fetch(`${h.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(json.status, 400);
  const huge = await fetch(`${h.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=password&scope=${'a'.repeat(100_000)}`,
  });
  assert.equal(huge.status, 413);
});
