/**
 * Login protection against a real database (issues 10.3 and 18): the throttle's counters
 * and their reservation under concurrency from two connection pools (two replicas), the
 * admin unlock, and the last-admin check under concurrent demotion and disabling. One
 * suite, run on SQLite (login-protection-sqlite.test.ts) and PostgreSQL
 * (login-protection-postgres.test.ts).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DockyardError } from '../../shared/http/errors.js';
import { AdminOperations } from '../../services/auth/operations/index.js';
import { LoginAttemptStore } from '../../services/auth/store/login-attempts.js';
import { LoginThrottle, type ThrottlePolicy } from '../../services/auth/throttle.js';
import type { AuthDbFixture } from './auth-store.contract.js';

const cli = { name: 'cli:test', address: '' };

/** The Retry-After of a refusal, or null when `attempt` was let through. */
async function refusal(attempt: Promise<unknown>): Promise<string | null> {
  try {
    await attempt;
    return null;
  } catch (err) {
    if (err instanceof DockyardError && err.code === 'TOOMANYREQUESTS') return err.headers['Retry-After'] ?? '';
    throw err;
  }
}

/** Registers the whole suite for one dialect. */
export function runLoginProtectionContract(dialect: string, open: () => Promise<AuthDbFixture>): void {
  describe(`login protection on ${dialect}`, () => {
    let fx: AuthDbFixture;
    before(async () => {
      fx = await open();
    });
    after(async () => {
      await fx?.dispose();
    });

    test('per (account, address) limit: the owner from another address is still evaluated; a success clears only its own address', async () => {
      let clock = 10_000_000;
      const policy: ThrottlePolicy = { maxFailures: 3, addressMaxFailures: 100, accountMaxFailures: 100, windowSeconds: 60 };
      const throttle = new LoginThrottle(new LoginAttemptStore(fx.db), policy, () => clock);
      for (let i = 0; i < 3; i++) {
        await throttle.reserve('pa-alice', '192.0.2.1');
        clock += 1000;
      }
      // The oldest failure was 3 s ago; it leaves the 60 s window in 57 s.
      assert.equal(await refusal(throttle.reserve('pa-alice', '192.0.2.1')), '57', 'the guesser is refused');
      const owner = await throttle.reserve('pa-alice', '192.0.2.2');
      await throttle.succeeded(owner);
      assert.equal(await refusal(throttle.reserve('pa-alice', '192.0.2.1')), '57', "the owner's success resets nothing for the guesser");
      const typo = await throttle.reserve('pa-alice', '192.0.2.2');
      assert.ok(typo.attempt);
      const afterTypo = await throttle.reserve('pa-alice', '192.0.2.2');
      await throttle.succeeded(afterTypo);
      const rows = await fx.db('login_attempts').where({ account: 'pa-alice', address: '192.0.2.2' }).count({ n: '*' }).first();
      assert.equal(Number(rows?.n), 0, "a success clears the account's failures from its own address");
      clock += 60_000;
      assert.equal(await refusal(throttle.reserve('pa-alice', '192.0.2.1')), null, 'the window passed');
    });

    test('per address limit: failures on many accounts add up; names no account can have count too', async () => {
      let clock = 20_000_000;
      const policy: ThrottlePolicy = { maxFailures: 100, addressMaxFailures: 4, accountMaxFailures: 100, windowSeconds: 60 };
      const throttle = new LoginThrottle(new LoginAttemptStore(fx.db), policy, () => clock);
      for (const account of ['ad-1', 'ad-2', null, 'ad-3']) {
        await throttle.reserve(account, '192.0.2.10');
        clock += 1000;
      }
      assert.equal(await refusal(throttle.reserve('ad-4', '192.0.2.10')), '56');
      assert.equal(await refusal(throttle.reserve(null, '192.0.2.10')), '56');
      assert.equal(await refusal(throttle.reserve('ad-4', '192.0.2.11')), null, 'another address');
    });

    test('per account limit: a guarded account lets only addresses without failures on it try, once each', async () => {
      let clock = 30_000_000;
      const policy: ThrottlePolicy = { maxFailures: 3, addressMaxFailures: 100, accountMaxFailures: 5, windowSeconds: 60 };
      const throttle = new LoginThrottle(new LoginAttemptStore(fx.db), policy, () => clock);
      // Two guessers: 3 + 2 failures reach the account limit.
      for (const address of ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.2', '198.51.100.2']) {
        await throttle.reserve('gu-bob', address);
        clock += 1000;
      }
      assert.notEqual(await refusal(throttle.reserve('gu-bob', '198.51.100.2')), null, 'an address that failed on the guarded account');
      const fresh = await throttle.reserve('gu-bob', '198.51.100.3');
      assert.ok(fresh.attempt, 'a clean address is evaluated');
      assert.notEqual(await refusal(throttle.reserve('gu-bob', '198.51.100.3')), null, 'and only once while the account is guarded');
      const owner = await throttle.reserve('gu-bob', '198.51.100.4');
      await throttle.succeeded(owner);
      await throttle.succeeded(await throttle.reserve('gu-bob', '198.51.100.4'));
      assert.equal(await refusal(throttle.reserve('gu-other', '198.51.100.2')), null, 'other accounts are not guarded');
    });

    test('admin unlock clears an account from every address, audited; NOT_FOUND for an unknown user', async () => {
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4 });
      await ops.users.create(cli, { name: 'ul-carol', password: 'carol-password' });
      const policy: ThrottlePolicy = { maxFailures: 2, addressMaxFailures: 100, accountMaxFailures: 100, windowSeconds: 60 };
      const throttle = new LoginThrottle(new LoginAttemptStore(fx.db), policy);
      for (const address of ['203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.2']) await throttle.reserve('ul-carol', address);
      await throttle.reserve('ul-other', '203.0.113.1');
      assert.notEqual(await refusal(throttle.reserve('ul-carol', '203.0.113.2')), null);
      assert.equal(await ops.users.unlock(cli, 'ul-carol'), 4);
      assert.equal(await refusal(throttle.reserve('ul-carol', '203.0.113.2')), null, 'unlocked');
      const left = await fx.db('login_attempts').where({ account: 'ul-other' }).count({ n: '*' }).first();
      assert.equal(Number(left?.n), 1, 'other accounts keep their counts');
      const audit = await ops.queryAudit({ target: 'user:ul-carol', action: 'user.unlock', limit: 5 });
      assert.deepEqual(audit.entries.map((e) => [e.outcome, e.details]), [['ok', { attemptsCleared: 4 }]]);
      await assert.rejects(ops.users.unlock(cli, 'ul-nobody'), (e) => e instanceof DockyardError && e.code === 'NOT_FOUND');
    });

    test('60 attempts at once through two replicas: exactly the limits are reserved (per account and address, per address)', async () => {
      const peer = fx.openPeer();
      const policy: ThrottlePolicy = { maxFailures: 5, addressMaxFailures: 7, accountMaxFailures: 100, windowSeconds: 60 };
      const replicas = [new LoginThrottle(new LoginAttemptStore(fx.db), policy), new LoginThrottle(new LoginAttemptStore(peer), policy)];
      const oneAccount = await Promise.all(Array.from({ length: 60 }, (_, i) => refusal(replicas[i % 2].reserve('co-dave', '192.0.2.50'))));
      assert.equal(oneAccount.filter((r) => r === null).length, 5, 'one account from one address');
      const manyAccounts = await Promise.all(Array.from({ length: 60 }, (_, i) => refusal(replicas[i % 2].reserve(`co-user-${i}`, '192.0.2.51'))));
      assert.equal(manyAccounts.filter((r) => r === null).length, 7, 'many accounts from one address');
    });

    test('the last two admins demoted and disabled at once, through two replicas: one change is refused, an admin remains', async () => {
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4 });
      const peerOps = new AdminOperations({ db: fx.openPeer(), bcryptCost: 4 });
      for (let round = 0; round < 8; round++) {
        const [a, b] = [`la-a${round}`, `la-b${round}`];
        await ops.users.create(cli, { name: a, password: 'admin-password', admin: true });
        await ops.users.create(cli, { name: b, password: 'admin-password', admin: true });
        for (const other of (await ops.users.list()).filter((u) => u.admin && !u.disabled && u.name !== a && u.name !== b)) {
          await ops.users.setAdmin(cli, other.name, false);
        }
        const outcomes = await Promise.allSettled([ops.users.setAdmin(cli, a, false), peerOps.users.setDisabled(cli, b, true)]);
        const admins = (await ops.users.list()).filter((u) => u.admin && !u.disabled).map((u) => u.name);
        assert.equal(admins.length, 1, `round ${round}: enabled admins left: ${admins.join(',') || 'none'}`);
        const refused = outcomes.filter((o) => o.status === 'rejected');
        assert.equal(refused.length, 1, `round ${round}: exactly one change refused`);
        assert.equal(((refused[0] as PromiseRejectedResult).reason as DockyardError).code, 'CONFLICT');
      }
    });
  });
}
