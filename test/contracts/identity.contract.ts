/**
 * Single sign-on and personal access token storage against a real database: sign-ins and
 * one-time codes taken exactly once, provisioning by issuer + subject with provider-managed
 * group memberships, and personal access tokens. One suite, run on SQLite
 * (identity-sqlite.test.ts) and PostgreSQL (identity-postgres.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrateRollbackAll, migrateLatest } from '../../shared/db/index.js';
import { DockyardError } from '../../shared/http/errors.js';
import { AccessTokenStore } from '../../services/auth/access-tokens/store.js';
import { AccessTokenVerifier } from '../../services/auth/access-tokens/verify.js';
import { AdminOperations } from '../../services/auth/operations/index.js';
import { mapGroups, OidcProvisioner } from '../../services/auth/oidc/provision.js';
import { OidcStore } from '../../services/auth/oidc/store.js';
import { GroupStore } from '../../services/auth/store/groups.js';
import { UserStore } from '../../services/auth/store/users.js';
import type { AuthDbFixture } from './auth-store.contract.js';

const ISSUER = 'https://idp.example.test';
const cli = { name: 'cli:test', address: '' };

/** Registers the suite for one dialect. */
export function runIdentityContract(dialect: string, open: () => Promise<AuthDbFixture>): void {
  describe(`single sign-on and access token storage on ${dialect}`, () => {
    let fx: AuthDbFixture;
    before(async () => {
      fx = await open();
    });
    after(async () => fx?.dispose());

    test('migration 040 rolls back and applies again', async () => {
      const scratch = await open();
      try {
        await migrateRollbackAll(scratch.db, 'auth');
        for (const table of ['oidc_identities', 'oidc_logins', 'oidc_codes', 'access_tokens']) assert.equal(await scratch.db.schema.hasTable(table), false);
        await migrateLatest(scratch.db, 'auth');
        assert.equal(await scratch.db.schema.hasColumn('refresh_tokens', 'expires_at'), true);
      } finally {
        await scratch.dispose();
      }
    });

    test('a sign-in in progress is taken once', async () => {
      const store = new OidcStore(fx.db);
      const login = { stateHash: 'a'.repeat(64), browserHash: 'b'.repeat(64), nonce: 'n', codeVerifier: 'v', redirectUri: 'https://web/cb', clientState: 's', expiresAt: 1_800_000_000_000 };
      await store.insertLogin(login);
      const taken = await Promise.all([store.takeLogin(login.stateHash), store.takeLogin(login.stateHash)]);
      assert.equal(taken.filter((t) => t !== null).length, 1);
      const { stateHash: _s, ...rest } = login;
      assert.deepEqual(taken.find((t) => t !== null), rest);
      assert.equal(await store.takeLogin(login.stateHash), null);
    });

    test('a one-time code is redeemed once, before it expires, for its redirect_uri', async () => {
      const users = new UserStore(fx.db);
      const user = await users.insert({ name: 'code-user', passwordHash: '$2b$04$x', admin: false, now: 1 });
      const store = new OidcStore(fx.db);
      const now = 1_800_000_000_000;
      await store.insertCode({ codeHash: 'c1'.padEnd(64, '0'), userId: user.id, redirectUri: 'https://web/cb', expiresAt: now + 60_000 });
      const both = await Promise.all([store.redeemCode('c1'.padEnd(64, '0'), 'https://web/cb', now), store.redeemCode('c1'.padEnd(64, '0'), 'https://web/cb', now)]);
      assert.deepEqual(both.map((r) => (r.ok ? r.userName : r.reason)).sort(), ['code-user', 'reused']);
      await store.insertCode({ codeHash: 'c2'.padEnd(64, '0'), userId: user.id, redirectUri: 'https://web/cb', expiresAt: now });
      assert.deepEqual(await store.redeemCode('c2'.padEnd(64, '0'), 'https://web/cb', now), { ok: false, reason: 'expired' });
      await store.insertCode({ codeHash: 'c3'.padEnd(64, '0'), userId: user.id, redirectUri: 'https://web/cb', expiresAt: now + 60_000 });
      assert.deepEqual(await store.redeemCode('c3'.padEnd(64, '0'), 'https://evil/cb', now), { ok: false, reason: 'redirect_uri' });
      assert.deepEqual(await store.redeemCode('c3'.padEnd(64, '0'), 'https://web/cb', now), { ok: false, reason: 'reused' });
      assert.deepEqual(await store.redeemCode('zz'.padEnd(64, '0'), 'https://web/cb', now), { ok: false, reason: 'unknown' });
      assert.equal(await store.purge(now + 1), 1, 'only the expired code');
      assert.equal(await store.purge(now + 60_001), 2);
    });

    test('provisioning: created once, found by subject, provider-managed groups follow the claim, hand-added ones stay', async () => {
      const groups = new GroupStore(fx.db);
      for (const g of ['p-devs', 'p-ops', 'p-manual']) await groups.insert(g, 1);
      const provisioner = new OidcProvisioner(fx.db, { issuer: ISSUER, groupMap: { 'idp-ops': 'p-ops', noise: null } }, 4);
      const first = await provisioner.provision({ subject: 'sub-1', username: 'p-erin', groups: ['p-devs', 'idp-ops', 'noise', 'p-missing'] });
      assert.ok(first.ok);
      assert.deepEqual([first.created, first.groups, first.unknownGroups], [true, ['p-devs', 'p-ops'], ['p-missing']]);
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4 });
      await ops.groups.addMember(cli, 'p-manual', 'p-erin');

      const renamed = await provisioner.provision({ subject: 'sub-1', username: 'someone-else', groups: ['p-devs'] });
      assert.ok(renamed.ok);
      assert.deepEqual([renamed.name, renamed.created], ['p-erin', false]);
      const user = await new UserStore(fx.db).find('p-erin');
      assert.deepEqual((await groups.namesForUser(user!.id)).sort(), ['p-devs', 'p-manual']);

      assert.deepEqual(await provisioner.provision({ subject: 'sub-2', username: 'p-erin', groups: [] }), { ok: false, reason: 'username_taken', name: 'p-erin' });
      assert.deepEqual(await provisioner.provision({ subject: 'sub-3', username: 'x y', groups: [] }), { ok: false, reason: 'username_invalid' });
      assert.deepEqual(await provisioner.provision({ subject: 'sub-4', username: undefined, groups: [] }), { ok: false, reason: 'username_missing' });
      await ops.users.setDisabled(cli, 'p-erin', true);
      assert.deepEqual(await provisioner.provision({ subject: 'sub-1', username: 'p-erin', groups: [] }), { ok: false, reason: 'disabled', name: 'p-erin' });
      await ops.users.delete(cli, 'p-erin');
      assert.equal(await new OidcStore(fx.db).findIdentity(ISSUER, 'sub-1'), null, 'deleting the user removes the link');
    });

    test('group claims: arrays or one name, mapped, invalid names dropped', () => {
      assert.deepEqual(mapGroups(['b', 'a', 'a', 'x y', 7, 'm'], { m: 'mapped', b: null }), ['a', 'mapped']);
      assert.deepEqual(mapGroups('solo', {}), ['solo']);
      assert.deepEqual(mapGroups(undefined, {}), []);
    });

    test('personal access tokens: create, verify, touch, replace a dead name, revoke, limits', async () => {
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4, accessTokenMaxLifetimeSeconds: 86400 * 10 });
      await ops.users.create(cli, { name: 'pat-user', password: 'pat-user-password' });
      const created = await ops.accessTokens.create(cli, 'pat-user', { name: 'one', expires: '2d' });
      const verifier = new AccessTokenVerifier(fx.db);
      const now = Date.now();
      const ok = await verifier.check('pat-user', created.secret, now);
      assert.ok(ok?.ok);
      assert.equal(ok.tokenName, 'one');
      assert.equal(await verifier.check('pat-user', 'an ordinary password', now), null);
      assert.equal(await verifier.check('pat-user', `dyat_${'x'.repeat(55)}`, now), null, 'an unknown lookup id is no token');
      const [listed] = await ops.accessTokens.list('pat-user');
      assert.equal(typeof listed.lastUsedAt, 'number');
      await assert.rejects(ops.accessTokens.create(cli, 'pat-user', { name: 'one' }), (e: unknown) => e instanceof DockyardError && e.code === 'CONFLICT');
      await assert.rejects(ops.accessTokens.create(cli, 'pat-user', { name: 'long', expires: '11d' }), (e: unknown) => e instanceof DockyardError && e.code === 'REQUEST_INVALID');
      await ops.accessTokens.revoke(cli, 'pat-user', 'one');
      assert.deepEqual(await verifier.check('pat-user', created.secret, now), { ok: false, reason: 'token_revoked' });
      const again = await ops.accessTokens.create(cli, 'pat-user', { name: 'one' });
      assert.notEqual(again.secret, created.secret);
      assert.deepEqual(await verifier.check('pat-user', again.secret, now + 31 * 86400_000), { ok: false, reason: 'token_expired' });
      const store = new AccessTokenStore(fx.db);
      const user = await new UserStore(fx.db).find('pat-user');
      assert.equal(await store.countLive(user!.id, now), 1);
      await ops.users.delete(cli, 'pat-user');
      assert.equal((await fx.db('access_tokens').count({ n: '*' }).first())?.n?.toString(), '0', 'deleting the user deletes its tokens');
    });
  });
}
