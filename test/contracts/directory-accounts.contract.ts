/**
 * Directory accounts (migration 030, services/auth/identity/accounts.ts) against a real
 * database: a first directory sign-in creates a users row with an unusable password and
 * links it; a second one (also from another replica at the same moment) reuses it; a local
 * user taken over keeps its id; deleting the user drops the link; the migration goes down
 * and up again. Run on SQLite and PostgreSQL (directory-accounts-*.test.ts).
 */
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { after, before, describe, test } from 'node:test';
import { DirectoryAccountStore } from '../../services/auth/identity/accounts.js';
import { UserStore } from '../../services/auth/store/users.js';
import { migrateLatest, migrateRollbackAll } from '../../shared/db/index.js';
import type { AuthDbFixture } from './auth-store.contract.js';

const DN = 'uid=a*b(c)\\5Cd,ou=people,dc=example,dc=com';

export function runDirectoryAccountsContract(dialect: string, open: () => Promise<AuthDbFixture>): void {
  describe(`directory accounts on ${dialect}`, () => {
    let fx: AuthDbFixture;
    before(async () => {
      fx = await open();
    });
    after(async () => {
      await fx?.dispose();
    });

    test('a first sign-in creates a linked users row whose password nobody knows', async () => {
      const accounts = new DirectoryAccountStore(fx.db);
      const user = await accounts.link('a*b(c)\\d', 'ldap', DN, 1000);
      assert.equal(user.name, 'a*b(c)\\d');
      assert.equal(user.admin, false);
      assert.equal(await accounts.sourceOf(user.id), 'ldap');
      assert.equal(await bcrypt.compare('', user.passwordHash), false);
      const again = await accounts.link('a*b(c)\\d', 'ldap', `${DN}x`, 2000);
      assert.equal(again.id, user.id);
      const row = await fx.db('directory_accounts').where({ user_id: user.id }).first();
      assert.equal(row.dn, `${DN}x`);
    });

    test('local users have no source; a taken-over local user keeps its id, flags and memberships', async () => {
      const users = new UserStore(fx.db);
      const local = await users.insert({ name: 'migrating', passwordHash: 'x', admin: true, now: 1 });
      const accounts = new DirectoryAccountStore(fx.db);
      assert.equal(await accounts.sourceOf(local.id), null);
      const linked = await accounts.link('migrating', 'ldap', 'uid=migrating,dc=x', 5);
      assert.equal(linked.id, local.id);
      assert.equal(linked.admin, true);
      assert.equal(await accounts.sourceOf(local.id), 'ldap');
    });

    test('two replicas signing the same new user in at once end with one row and one link', async () => {
      const peer = fx.openPeer();
      const [a, b] = await Promise.all([
        new DirectoryAccountStore(fx.db).link('concurrent', 'ldap', 'uid=concurrent,dc=x', 10),
        new DirectoryAccountStore(peer).link('concurrent', 'ldap', 'uid=concurrent,dc=x', 10),
      ]);
      assert.equal(a.id, b.id);
      assert.equal(Number((await fx.db('users').where({ name: 'concurrent' }).count({ n: '*' }).first())?.n), 1);
    });

    test('deleting the user drops its link', async () => {
      const accounts = new DirectoryAccountStore(fx.db);
      const user = await accounts.link('leaver', 'ldap', 'uid=leaver,dc=x', 1);
      assert.ok(await new UserStore(fx.db).delete('leaver'));
      assert.equal(await fx.db('directory_accounts').where({ user_id: user.id }).first(), undefined);
    });

    test('migration 030 goes down and up again', async () => {
      await migrateRollbackAll(fx.db, 'auth');
      assert.equal(await fx.db.schema.hasTable('directory_accounts'), false);
      await migrateLatest(fx.db, 'auth');
      assert.ok(await fx.db.schema.hasTable('directory_accounts'));
    });
  });
}
