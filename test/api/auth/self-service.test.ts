// POST /api/v1/me/refresh-tokens/revoke: any enabled user or robot revokes its OWN refresh
// tokens with its own credentials (what `docker logout` leaves valid), never anyone
// else's; disabled accounts and wrong credentials are refused; the change is audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, startHarness, type AuthHarness } from './harness.js';

let h: AuthHarness;
before(async () => {
  h = await startHarness();
  await createUser(h, 'alice', 'alice-password');
  await createUser(h, 'bob', 'bob-password');
});
after(async () => h.close());

async function refreshTokenOf(user: string, password: string): Promise<string> {
  const r = await getToken(h, [['service', SERVICE], ['offline_token', 'true'], ['client_id', 'docker']], basic(user, password));
  assert.equal(r.status, 200);
  return (r.body as unknown as { refresh_token: string }).refresh_token;
}

const redeem = async (token: string) => (await postToken(h, { grant_type: 'refresh_token', refresh_token: token, client_id: 'docker', service: SERVICE })).status;
const revokeOwn = (authorization?: string) =>
  fetch(`${h.url}/api/v1/me/refresh-tokens/revoke`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } });

test("a user revokes all of their own refresh tokens and nobody else's", async () => {
  const alice = [await refreshTokenOf('alice', 'alice-password'), await refreshTokenOf('alice', 'alice-password')];
  const bob = await refreshTokenOf('bob', 'bob-password');
  const res = await revokeOwn(basic('alice', 'alice-password'));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { revoked: 2 });
  assert.equal(res.headers.get('cache-control'), 'no-store');
  for (const token of alice) assert.equal(await redeem(token), 401);
  assert.equal(await redeem(bob), 200, "bob's token is untouched");
  const audit = await adminApi(h, 'GET', '/audit?action=refresh-token.revoke&actor=alice');
  const entries = (audit.body as unknown as { entries: Array<{ target: string; outcome: string; details: { revoked: number } }> }).entries;
  assert.deepEqual(entries.map((e) => [e.target, e.outcome, e.details.revoked]), [['user:alice', 'ok', 2]]);
});

test('a robot revokes its own refresh tokens with its secret', async () => {
  const created = await adminApi(h, 'POST', '/robots', { name: 'ci' });
  const { username, secret } = created.body as unknown as { username: string; secret: string };
  const token = await refreshTokenOf(username, secret);
  const res = await revokeOwn(basic(username, secret));
  assert.deepEqual(await res.json(), { revoked: 1 });
  assert.equal(await redeem(token), 401);
});

test('no credentials, wrong ones, or a disabled account: 401', async () => {
  assert.equal((await revokeOwn()).status, 401);
  assert.equal((await revokeOwn(basic('alice', 'wrong-password'))).status, 401);
  const bobToken = await refreshTokenOf('bob', 'bob-password');
  assert.equal((await adminApi(h, 'PATCH', '/users/bob', { disabled: true })).status, 200);
  assert.equal((await revokeOwn(basic('bob', 'bob-password'))).status, 401);
  assert.equal((await adminApi(h, 'PATCH', '/users/bob', { disabled: false })).status, 200);
  assert.equal(await redeem(bobToken), 401, 'disabling revoked it anyway');
});
