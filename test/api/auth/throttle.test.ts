// Login throttling through a real port: per account (default 10 failures in 5 minutes)
// and per client address, 429 TOOMANYREQUESTS with Retry-After, audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, startHarness, type AuthHarness, type Reply } from './harness.js';

let h: AuthHarness;
const ADDRESS_LIMIT = 16;

before(async () => {
  // The account limit keeps its default (10); the address limit is set so the test can reach it.
  h = await startHarness({ env: { AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: String(ADDRESS_LIMIT) } });
  await createUser(h, 'victim', 'victim-password');
  await createUser(h, 'bystander', 'bystander-password');
});
after(async () => {
  await h?.close();
});

function assertThrottled(r: Reply): void {
  assert.equal(r.status, 429, r.text);
  assert.equal((r.body.errors as Array<{ code: string }>)[0].code, 'TOOMANYREQUESTS');
  const retryAfter = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 300, `Retry-After ${r.headers.get('retry-after')}`);
}

test('10 failed logins for one account: the 11th attempt gets 429 with Retry-After, even with the right password', async () => {
  for (let i = 0; i < 10; i++) {
    const r = await getToken(h, [['service', SERVICE]], basic('victim', `guess-${i}`));
    assert.equal(r.status, 401, `attempt ${i + 1}`);
  }
  assertThrottled(await getToken(h, [['service', SERVICE]], basic('victim', 'guess-10')));
  assertThrottled(await getToken(h, [['service', SERVICE]], basic('victim', 'victim-password')));
  assertThrottled(await postToken(h, { grant_type: 'password', username: 'victim', password: 'victim-password', client_id: 'docker', service: SERVICE }));
});

test('another account from the same address is not affected by the account limit', async () => {
  assert.equal((await getToken(h, [['service', SERVICE]], basic('bystander', 'bystander-password'))).status, 200);
});

test('failures for many accounts from one address reach the address limit; a success does not reset it', async () => {
  // 10 failures so far from this address; unknown accounts count against the address as well.
  for (let i = 10; i < ADDRESS_LIMIT - 1; i++) {
    assert.equal((await getToken(h, [['service', SERVICE]], basic(`nobody-${i}`, 'x-password'))).status, 401);
  }
  assert.equal((await getToken(h, [['service', SERVICE]], basic('bystander', 'bystander-password'))).status, 200);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('nobody-last', 'x-password'))).status, 401);
  assertThrottled(await getToken(h, [['service', SERVICE]], basic('bystander', 'bystander-password')));
  assertThrottled(await getToken(h, [['service', SERVICE]], basic('someone-new', 'x-password')));
  // Anonymous requests carry no credentials and are never throttled.
  assert.equal((await getToken(h, [['service', SERVICE]])).status, 200);
});

test('throttled attempts are audited', async () => {
  const rows = await h.db('audit').where({ action: 'token.issue', outcome: 'throttled' }).select('actor');
  const actors = new Set(rows.map((r: { actor: string }) => r.actor));
  assert.ok(actors.has('victim') && actors.has('bystander'), `throttled actors: ${[...actors].join(',')}`);
});

test('the admin API shares the throttle', async () => {
  const r = await adminApi(h, 'GET', '/users');
  assertThrottled(r);
});
