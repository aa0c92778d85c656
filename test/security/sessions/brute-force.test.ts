// Guessing against the token endpoint is throttled: passwords through docker's POST
// grant_type=password, robot secrets, and refresh tokens. Past the limit every guess gets
// 429 TOOMANYREQUESTS with a Retry-After and no token. A password is then refused even
// when right (it may be guessable); a robot secret or refresh token (32 random bytes, not
// guessable) keeps working, so a flood of guesses cannot lock a CI robot or a logged-in
// docker out. (test/api/auth/throttle.test.ts covers the GET flow and the address counter.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, type AuthHarness, type Reply } from '../../api/auth/harness.js';
import { startAuth } from '../services.js';

const ACCOUNT_LIMIT = 5;
const ADDRESS_LIMIT = 12;

function assertThrottled(reply: Reply, what: string): void {
  assert.equal(reply.status, 429, `${what}: ${reply.status} ${reply.text}`);
  assert.equal((reply.body.errors as Array<{ code: string }>)[0]?.code, 'TOOMANYREQUESTS');
  const retryAfter = reply.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, `Retry-After ${retryAfter}`);
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 300, `Retry-After ${retryAfter}`);
  assert.equal(reply.body.token, undefined);
}

describe('brute force against the token endpoint', () => {
  let auth: AuthHarness | undefined;
  afterEach(async () => {
    await auth?.close();
    auth = undefined;
  });

  /** A fresh service per test: the address counter is shared by everything from 127.0.0.1. */
  async function freshAuth(): Promise<AuthHarness> {
    auth = await startAuth({ env: { AUTH_LOGIN_MAX_FAILURES: String(ACCOUNT_LIMIT), AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: String(ADDRESS_LIMIT) } });
    return auth;
  }

  it('password guessing with POST grant_type=password: 429 once the account limit is reached, even for the right password', async () => {
    const h = await freshAuth();
    await createUser(h, 'victim', 'victim-password');
    const attempt = (password: string) => postToken(h, { grant_type: 'password', username: 'victim', password, client_id: 'docker', service: SERVICE });
    for (let i = 0; i < ACCOUNT_LIMIT; i++) assert.equal((await attempt(`guess-${i}`)).status, 401, `guess ${i}`);
    assertThrottled(await attempt('guess-last'), 'next guess');
    assertThrottled(await attempt('victim-password'), 'the right password');
    assertThrottled(await getToken(h, [['service', SERVICE]], basic('victim', 'victim-password')), 'the right password over GET');
  });

  it('robot secret guessing: 429 once the account limit is reached; the robot itself is not locked out', async () => {
    const h = await freshAuth();
    const created = await adminApi(h, 'POST', '/robots', { name: 'deployer' });
    const { username, secret } = created.body as { username: string; secret: string };
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      assert.equal((await getToken(h, [['service', SERVICE]], basic(username, randomBytes(32).toString('base64url')))).status, 401);
    }
    assertThrottled(await getToken(h, [['service', SERVICE]], basic(username, randomBytes(32).toString('base64url'))), 'next guess');
    assert.equal((await getToken(h, [['service', SERVICE]], basic(username, secret))).status, 200, 'the robot with its real secret');
    assertThrottled(await getToken(h, [['service', SERVICE]], basic(username, randomBytes(32).toString('base64url'))), 'guessing goes on being refused');
  });

  it('refresh token guessing: 429 once the address limit is reached; a real refresh token still works', async () => {
    const h = await freshAuth();
    await createUser(h, 'holder', 'holder-password');
    const login = await getToken(h, [['service', SERVICE], ['client_id', 'docker'], ['offline_token', 'true']], basic('holder', 'holder-password'));
    const real = login.body.refresh_token as string;
    const redeem = (token: string) => postToken(h, { grant_type: 'refresh_token', refresh_token: token, client_id: 'docker', service: SERVICE });
    for (let i = 0; i < ADDRESS_LIMIT; i++) assert.equal((await redeem(randomBytes(32).toString('base64url'))).status, 401, `guess ${i}`);
    assertThrottled(await redeem(randomBytes(32).toString('base64url')), 'next guess');
    assert.equal((await redeem(real)).status, 200, 'the real refresh token');
    assertThrottled(await redeem(randomBytes(32).toString('base64url')), 'guessing goes on being refused');
  });
});
