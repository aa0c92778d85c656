// Robot accounts through a real port: login with the one-time secret, grants, expiry,
// revocation, last-used tracking, and no way into the admin API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { accessOf, adminApi, basic, getToken, SERVICE, startHarness, verifiedClaims, type AuthHarness } from './harness.js';

let h: AuthHarness;

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

async function createRobot(name: string, expires?: string): Promise<{ username: string; secret: string }> {
  const r = await adminApi(h, 'POST', '/robots', expires ? { name, expires } : { name });
  assert.equal(r.status, 201, r.text);
  return { username: String(r.body.username), secret: String(r.body.secret) };
}

test('a robot logs in with robot$NAME and its secret and gets what its grants allow', async () => {
  const robot = await createRobot('ci');
  assert.equal(robot.username, 'robot$ci');
  assert.equal((await adminApi(h, 'POST', '/grants', { subject: 'robot:ci', pattern: 'ci/*', actions: 'pull,push' })).status, 201);
  const r = await getToken(h, [['account', robot.username], ['scope', 'repository:ci/app:push,pull'], ['scope', 'repository:other/app:pull'], ['service', SERVICE]], basic(robot.username, robot.secret));
  assert.equal(r.status, 200, r.text);
  const { payload } = await verifiedClaims(h, String(r.body.token));
  assert.equal(payload.sub, 'robot$ci');
  assert.deepEqual(payload.access, [{ type: 'repository', name: 'ci/app', actions: ['push', 'pull'] }]);
  const row = await h.db('robots').where({ name: 'robot$ci' }).first();
  assert.ok(Number(row.last_used_at) > 0, 'last_used_at recorded');
  assert.notEqual(row.secret_hash, robot.secret, 'only a hash is stored');
});

test('the secret is shown once: never listed, never logged', async () => {
  const robot = await createRobot('lister');
  const list = await adminApi(h, 'GET', '/robots');
  assert.equal(list.status, 200);
  assert.ok((list.body.robots as Array<{ name: string }>).some((r) => r.name === 'robot$lister'));
  assert.ok(!list.text.includes(robot.secret));
  assert.ok(!list.text.includes('secretHash') && !list.text.includes('secret_hash'));
  assert.ok(!h.logs().includes(robot.secret));
});

test('a wrong robot secret and an unknown robot answer the same 401', async () => {
  const robot = await createRobot('wrongsecret');
  const wrong = await getToken(h, [['service', SERVICE]], basic(robot.username, 'not-the-secret'));
  const unknown = await getToken(h, [['service', SERVICE]], basic('robot$nobody', 'not-the-secret'));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.text, unknown.text);
});

test('an expired robot is refused', async () => {
  const robot = await createRobot('shortlived', '1h');
  const listed = (await adminApi(h, 'GET', '/robots')).body.robots as Array<{ name: string; expiresAt: number }>;
  const expiresAt = listed.find((r) => r.name === 'robot$shortlived')?.expiresAt ?? 0;
  assert.ok(Math.abs(expiresAt - (Date.now() + 3600_000)) < 600_000, 'expires in about an hour');
  assert.equal((await getToken(h, [['service', SERVICE]], basic(robot.username, robot.secret))).status, 200);
  await h.db('robots').where({ name: 'robot$shortlived' }).update({ expires_at: Date.now() - 1000 });
  assert.equal((await getToken(h, [['service', SERVICE]], basic(robot.username, robot.secret))).status, 401);
});

test('a revoked robot is refused at once', async () => {
  const robot = await createRobot('revokeme');
  assert.equal((await getToken(h, [['service', SERVICE]], basic(robot.username, robot.secret))).status, 200);
  assert.equal((await adminApi(h, 'POST', '/robots/robot$revokeme/revoke')).status, 204);
  assert.equal((await getToken(h, [['service', SERVICE]], basic(robot.username, robot.secret))).status, 401);
  assert.equal((await adminApi(h, 'POST', '/robots/nosuchrobot/revoke')).status, 404);
});

test('robots are never admins: the admin API answers 403, the catalog lists only what they may pull', async () => {
  const robot = await createRobot('notadmin');
  const api = await adminApi(h, 'GET', '/users', undefined, basic(robot.username, robot.secret));
  assert.equal(api.status, 403);
  const r = await getToken(h, [['scope', 'registry:catalog:*'], ['service', SERVICE]], basic(robot.username, robot.secret));
  assert.deepEqual(accessOf(String(r.body.token)), [{ type: 'registry', name: 'catalog', actions: ['list'] }]);
  assert.deepEqual(decodeJwt(String(r.body.token)).dockyard_catalog, []);
});

test('bad robot input: invalid name, duplicate, invalid expiry → 400/409', async () => {
  assert.equal((await adminApi(h, 'POST', '/robots', { name: 'Bad Name' })).status, 400);
  assert.equal((await adminApi(h, 'POST', '/robots', { name: 'dup' })).status, 201);
  assert.equal((await adminApi(h, 'POST', '/robots', { name: 'dup' })).status, 409);
  assert.equal((await adminApi(h, 'POST', '/robots', { name: 'exp', expires: 'soon' })).status, 400);
  assert.equal((await adminApi(h, 'POST', '/robots', { name: 'exp', expires: '0d' })).status, 400);
});
