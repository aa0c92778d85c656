// Nobody can lock a user out by guessing (issue 10.3). Loopback source addresses play the
// machines: 127.0.0.2, .4 and .5 are attackers, 127.0.0.3 and .6 the owner. Failures count
// per account and address (limit 3 here), per address, and per account from all addresses
// (limit 6 here, past which only an address without a failure on the account is evaluated,
// once). An admin clears an account with `npm run admin -- users unlock NAME` or
// `POST /api/v1/users/NAME/unlock`, both audited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminApi, basic, createUser, runAdminCli, SERVICE, startHarness, type AuthHarness } from '../../api/auth/harness.js';
import { requestFrom, type AddressedReply } from '../../support/from-address.js';

const PASSWORD = 'owner-password';

const admin = (h: AuthHarness, args: string[]) => runAdminCli(h.dataDir, args);

describe('an attacker cannot lock the owner out', () => {
  let h: AuthHarness;
  before(async () => {
    h = await startHarness({ env: { AUTH_LOGIN_MAX_FAILURES: '3', AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '6', AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '50' } });
    await createUser(h, 'owner', PASSWORD);
  });
  after(() => h?.close());

  const login = (from: string, password: string): Promise<AddressedReply> =>
    requestFrom(from, `${h.url}/token?service=${SERVICE}`, { headers: { authorization: basic('owner', password) } });

  async function guess(from: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) assert.equal((await login(from, `guess-${from}-${i}`)).status, 401, `guess ${i} from ${from}`);
  }

  it('guesses from one address lock that address out of the account, not the owner on another machine', async () => {
    await guess('127.0.0.2', 3);
    const refused = await login('127.0.0.2', 'guess-again');
    assert.equal(refused.status, 429);
    assert.match(refused.retryAfter ?? '', /^\d+$/);
    assert.equal((await login('127.0.0.2', PASSWORD)).status, 429, 'the guessing address is refused even with the right password');
    assert.equal((await login('127.0.0.3', PASSWORD)).status, 200, 'the owner from another address logs in');
  });

  it('past the per-account limit only clean addresses are evaluated, once each; the owner still gets in', async () => {
    await guess('127.0.0.4', 3); // 6 failures on the account: it is guarded now
    await guess('127.0.0.5', 1); // a clean address gets one evaluated guess
    assert.equal((await login('127.0.0.5', 'guess-more')).status, 429, 'and no second one');
    assert.equal((await login('127.0.0.3', PASSWORD)).status, 200, 'the owner from an address with no failure on the account');
  });

  it('an owner who mistyped on a guarded account is let in again by `users unlock` (CLI) and by POST /users/NAME/unlock, audited', async () => {
    assert.equal((await login('127.0.0.6', 'typo-password')).status, 401);
    assert.equal((await login('127.0.0.6', PASSWORD)).status, 429, 'guarded, and this address failed on it');
    const unlocked = await admin(h, ['users', 'unlock', 'owner']);
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.match(unlocked.stdout, /unlocked user owner: \d+ counted login attempt\(s\) cleared/);
    assert.equal((await login('127.0.0.6', PASSWORD)).status, 200, 'after the CLI unlock');

    await guess('127.0.0.2', 3);
    assert.equal((await login('127.0.0.2', PASSWORD)).status, 429);
    const rest = await adminApi(h, 'POST', '/users/owner/unlock');
    assert.equal(rest.status, 200, rest.text);
    assert.equal(rest.body.attemptsCleared, 3);
    assert.equal((await login('127.0.0.2', PASSWORD)).status, 200, 'after the REST unlock');
    assert.equal((await adminApi(h, 'POST', '/users/nobody/unlock')).status, 404);

    const audit = await h.db('audit').where({ action: 'user.unlock', target: 'user:owner' }).orderBy('id').select('actor', 'outcome');
    assert.deepEqual(audit.map((r: { actor: string; outcome: string }) => r.outcome), ['ok', 'ok']);
    assert.match(audit[0].actor, /^cli/);
    assert.equal(audit[1].actor, 'admin');
  });
});
