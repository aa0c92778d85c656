// The LDAP identity source against a real slapd: password check by binding as the found
// entry, disabled and unknown users, groups from memberOf and from a group filter, and no
// filter injection: names made of `*()\` and NUL match only themselves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LdapDirectory } from '../../../../services/auth/identity/ldap/directory.js';
import { META_NAME, PEOPLE, slapdSuiteGate, startSlapd, type Slapd } from '../../../support/slapd.js';
import { openLdapConfig } from './config.js';

if (slapdSuiteGate('LDAP identity source')) {
  describe('LdapDirectory against slapd', () => {
    let slapd: Slapd;
    let directory: LdapDirectory;

    before(async () => {
      slapd = await startSlapd();
      directory = new LdapDirectory(openLdapConfig(slapd.url));
    });
    after(() => slapd?.stop());

    it('finds a user with the right password and reads its groups from memberOf', async () => {
      const answer = await directory.authenticate('alice', PEOPLE.alice);
      assert.equal(answer.status, 'found');
      assert.ok(answer.status === 'found');
      assert.equal(answer.name, 'alice');
      assert.deepEqual([...answer.groups].sort(), ['Registry Admins', 'developers']);
    });

    it('returns the directory spelling of the name (uid matches case-insensitively)', async () => {
      const answer = await directory.authenticate('ALICE', PEOPLE.alice);
      assert.ok(answer.status === 'found');
      assert.equal(answer.name, 'alice');
    });

    it('refuses a wrong password, and an empty one (no unauthenticated bind)', async () => {
      assert.deepEqual(await directory.authenticate('alice', 'wrong'), { status: 'password' });
      assert.deepEqual(await directory.authenticate('alice', ''), { status: 'password' });
    });

    it('says disabled for an entry matching the disabled filter, even with its password', async () => {
      assert.deepEqual(await directory.authenticate('carol', PEOPLE.carol), { status: 'disabled' });
    });

    it('says unknown for a name not in the directory', async () => {
      assert.deepEqual(await directory.authenticate('nobody', 'whatever'), { status: 'unknown' });
    });

    it('reads groups with a group filter instead of memberOf', async () => {
      const byFilter = new LdapDirectory(openLdapConfig(slapd.url, { groupFilter: '(&(objectClass=groupOfNames)(member=%s))' }));
      const answer = await byFilter.lookup('bob');
      assert.ok(answer.status === 'found');
      assert.deepEqual(answer.groups, ['ops']);
    });

    it('looks a user up without a password for re-checks', async () => {
      const answer = await directory.lookup('bob');
      assert.ok(answer.status === 'found');
      assert.deepEqual(answer.groups, ['ops']);
    });

    describe('filter injection', () => {
      it('a wildcard name matches no one (it would match every user unescaped)', async () => {
        for (const name of ['*', 'a*', '*e', 'al*ce']) {
          assert.deepEqual(await directory.authenticate(name, PEOPLE.alice), { status: 'unknown' }, name);
          assert.deepEqual(await directory.lookup(name), { status: 'unknown' }, name);
        }
      });

      it('a name closing the filter cannot add a clause', async () => {
        for (const name of ['alice)(uid=*', '*)(|(uid=*', 'x)(objectClass=*))(|(uid=*', 'alice)(!(employeeType=disabled)']) {
          assert.deepEqual(await directory.authenticate(name, PEOPLE.alice), { status: 'unknown' }, name);
        }
      });

      it('a disabled user cannot escape the disabled check through its name', async () => {
        assert.deepEqual(await directory.authenticate('carol)(employeeType=x', PEOPLE.carol), { status: 'unknown' });
      });

      it('backslashes and NUL are sent escaped: no protocol error, no match', async () => {
        for (const name of ['\\', 'alice\\', 'alice\u0000', '\u0000', '\\2a', 'a\\2ab']) {
          assert.deepEqual(await directory.authenticate(name, PEOPLE.alice), { status: 'unknown' }, JSON.stringify(name));
        }
      });

      it('the user whose name is made of metacharacters signs in with exactly that name', async () => {
        const answer = await directory.authenticate(META_NAME, PEOPLE[META_NAME]);
        assert.ok(answer.status === 'found', JSON.stringify(answer));
        assert.equal(answer.name, META_NAME);
        assert.deepEqual(answer.groups, ['developers']);
        assert.deepEqual(await directory.authenticate(META_NAME, PEOPLE.alice), { status: 'password' });
        // Its name with the metacharacters taken as wildcards would find it (a*b(c)\d ~ a*) — escaped, nothing does.
        assert.deepEqual(await directory.authenticate('a*', PEOPLE[META_NAME]), { status: 'unknown' });
      });
    });

    it('refuses a filter that matches several entries, and an entry without a usable name', async () => {
      const wide = new LdapDirectory(openLdapConfig(slapd.url, { userFilter: '(|(uid=%s)(uid=bob))' }));
      assert.deepEqual(await wide.authenticate('alice', PEOPLE.alice), { status: 'ambiguous' });
      const nameless = new LdapDirectory(openLdapConfig(slapd.url, { usernameAttribute: 'mail' }));
      assert.deepEqual(await nameless.authenticate('alice', PEOPLE.alice), { status: 'bad_name' });
    });

    it('reports a wrong service password as unavailable (a configuration problem), not as the user\'s fault', async () => {
      const misconfigured = new LdapDirectory(openLdapConfig(slapd.url, { bindPassword: 'wrong' }));
      const answer = await misconfigured.authenticate('alice', PEOPLE.alice);
      assert.equal(answer.status, 'unavailable');
    });
  });
}
