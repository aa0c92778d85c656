// Directory sign-in through /token on a real port, against a real slapd: group grants,
// refusals with their audit reasons, the metacharacter user, refresh tokens re-checked
// against the directory (disabled, removed, group left), the re-check cache, robots and
// local users next to the directory, and login throttling covering directory logins.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminApi, basic, getToken, SERVICE, startHarness, type AuthHarness } from '../harness.js';
import { addPerson, deletePerson, disablePerson, leaveGroup, META_NAME, PEOPLE, slapdSuiteGate, startSlapd, type Slapd } from '../../../support/slapd.js';
import { openLdapConfig } from './config.js';
import { accessIn, lastAudit, login, refresh } from './helpers.js';

const DEV = 'repository:dev/app:pull,push';
const OPS = 'repository:ops/tool:pull';

/** A grant; for a group, the Dockyard group is created first (empty: its members come from the directory). */
async function grant(h: AuthHarness, subject: string, pattern: string, actions: string): Promise<void> {
  if (subject.startsWith('group:')) await adminApi(h, 'POST', '/groups', { name: subject.slice('group:'.length) });
  const r = await adminApi(h, 'POST', '/grants', { subject, pattern, actions });
  assert.equal(r.status, 201, r.text);
}

if (slapdSuiteGate('directory token requests')) {
  describe('directory sign-in through /token', () => {
    let slapd: Slapd;
    let h: AuthHarness;

    before(async () => {
      slapd = await startSlapd();
      h = await startHarness({ config: { ldap: openLdapConfig(slapd.url) }, env: { AUTH_LOGIN_MAX_FAILURES: '3' } });
      await grant(h, 'group:developers', 'dev/*', 'pull,push');
      await grant(h, 'group:ops', 'ops/*', 'pull');
    });
    after(async () => {
      await h?.close();
      await slapd?.stop();
    });

    it('a directory user gets what its directory groups are granted, and a refresh token', async () => {
      const r = await login(h, 'alice', PEOPLE.alice, [DEV, OPS]);
      assert.deepEqual(accessIn(r), [{ type: 'repository', name: 'dev/app', actions: ['pull', 'push'] }]);
      assert.equal(typeof r.body.refresh_token, 'string');
      assert.deepEqual(accessIn(await login(h, 'bob', PEOPLE.bob, [DEV, OPS])), [{ type: 'repository', name: 'ops/tool', actions: ['pull'] }]);
      const audit = await lastAudit(h, 'bob');
      assert.equal(audit.outcome, 'ok');
    });

    it('a user grant for a directory user works like for a local one (it has a users row)', async () => {
      await grant(h, 'user:bob', 'bob/*', 'pull');
      assert.deepEqual(accessIn(await login(h, 'bob', PEOPLE.bob, ['repository:bob/x:pull'])), [{ type: 'repository', name: 'bob/x', actions: ['pull'] }]);
      const users = await adminApi(h, 'GET', '/users');
      assert.ok(JSON.stringify(users.body).includes('"bob"'));
    });

    it('refuses a wrong password, a disabled and an unknown user with 401, and audits why', async () => {
      const cases: Array<[string, string, string]> = [
        ['alice', 'not-her-password', 'directory_password'],
        ['carol', PEOPLE.carol, 'directory_disabled'],
        ['nobody', 'anything-at-all', 'directory_unknown'],
      ];
      for (const [user, password, reason] of cases) {
        const r = await login(h, user, password, [DEV]);
        assert.equal(r.status, 401, `${user}: ${r.text}`);
        assert.equal(r.text.includes('directory'), false, 'the client is not told why');
        const audit = await lastAudit(h, user);
        assert.equal(audit.outcome, 'denied');
        assert.equal(audit.details.reason, reason);
      }
    });

    it('the user named with filter metacharacters signs in; wildcards and injected clauses sign in no one', async () => {
      const r = await login(h, META_NAME, PEOPLE[META_NAME], [DEV]);
      assert.deepEqual(accessIn(r), [{ type: 'repository', name: 'dev/app', actions: ['pull', 'push'] }]);
      for (const name of ['*', 'a*', 'alice)(uid=*', '*)(|(objectClass=*']) {
        const refused = await getToken(h, [['service', SERVICE], ['scope', DEV]], basic(name, PEOPLE.alice));
        assert.equal(refused.status, 401, name);
      }
      // NUL never reaches the directory: refused as malformed.
      const nul = await getToken(h, [['service', SERVICE]], basic('alice\u0000', PEOPLE.alice));
      assert.equal(nul.status, 401);
    });

    it('a local user and a robot keep working next to the directory', async () => {
      assert.equal((await adminApi(h, 'POST', '/users', { name: 'localuser', password: 'local-password-1' })).status, 201);
      await grant(h, 'user:localuser', 'dev/*', 'pull');
      assert.deepEqual(accessIn(await login(h, 'localuser', 'local-password-1', [DEV])), [{ type: 'repository', name: 'dev/app', actions: ['pull'] }]);
      const robot = await adminApi(h, 'POST', '/robots', { name: 'builder' });
      await grant(h, 'robot:builder', 'dev/*', 'pull');
      assert.deepEqual(accessIn(await getToken(h, [['service', SERVICE], ['scope', DEV]], basic(String(robot.body.username), String(robot.body.secret)))), [
        { type: 'repository', name: 'dev/app', actions: ['pull'] },
      ]);
    });

    it('a group left in the directory is gone at the next refresh', async () => {
      addPerson(slapd, 'dora', 'dora-directory-pw', ['developers', 'ops']);
      const first = await login(h, 'dora', 'dora-directory-pw', [DEV]);
      const rt = String(first.body.refresh_token);
      assert.deepEqual(accessIn(await refresh(h, rt, `${DEV} ${OPS}`)), [
        { type: 'repository', name: 'dev/app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'ops/tool', actions: ['pull'] },
      ]);
      leaveGroup(slapd, 'dora', 'developers');
      assert.deepEqual(accessIn(await refresh(h, rt, `${DEV} ${OPS}`)), [{ type: 'repository', name: 'ops/tool', actions: ['pull'] }]);
    });

    it('a user disabled in the directory loses its refresh token at the next request, audited', async () => {
      addPerson(slapd, 'erin', 'erin-directory-pw', ['developers']);
      const rt = String((await login(h, 'erin', 'erin-directory-pw', [DEV])).body.refresh_token);
      assert.equal((await refresh(h, rt, DEV)).status, 200);
      disablePerson(slapd, 'erin');
      const refused = await refresh(h, rt, DEV);
      assert.equal(refused.status, 401, refused.text);
      assert.equal((await lastAudit(h, 'erin')).details.reason, 'refresh_token:subject');
      assert.equal((await login(h, 'erin', 'erin-directory-pw', [DEV])).status, 401);
      assert.equal((await lastAudit(h, 'erin')).details.reason, 'directory_disabled');
    });

    it("a directory user's personal access token carries its directory groups and stops working once the user is disabled there", async () => {
      addPerson(slapd, 'hana', 'hana-directory-pw', ['developers']);
      const created = await adminApi(h, 'POST', '/me/access-tokens', { name: 'ci' }, basic('hana', 'hana-directory-pw'));
      assert.equal(created.status, 201, created.text);
      const secret = String(created.body.secret);
      assert.deepEqual(accessIn(await login(h, 'hana', secret, [DEV])), [{ type: 'repository', name: 'dev/app', actions: ['pull', 'push'] }]);
      disablePerson(slapd, 'hana');
      const refused = await login(h, 'hana', secret, [DEV]);
      assert.equal(refused.status, 401, refused.text);
      assert.equal((await lastAudit(h, 'hana')).details.reason, 'directory_disabled');
    });

    it('a user removed from the directory loses its refresh token at the next request', async () => {
      addPerson(slapd, 'fred', 'fred-directory-pw', ['ops']);
      const rt = String((await login(h, 'fred', 'fred-directory-pw', [OPS])).body.refresh_token);
      deletePerson(slapd, 'fred');
      assert.equal((await refresh(h, rt, OPS)).status, 401);
      assert.equal((await login(h, 'fred', 'fred-directory-pw', [OPS])).status, 401);
      assert.equal((await lastAudit(h, 'fred')).details.reason, 'directory_unknown');
    });

    it('a directory user cannot sign in by the local password its users row holds', async () => {
      // The row's hash is of a random secret; even one set by an admin is never asked while the row is the directory's.
      const set = await adminApi(h, 'PUT', '/users/bob/password', { password: 'a-local-password' });
      assert.ok(set.status < 300, set.text);
      assert.equal((await login(h, 'bob', 'a-local-password', [OPS])).status, 401);
      assert.equal((await lastAudit(h, 'bob')).details.reason, 'directory_password');
    });

    it('precedence local: the directory spelling of a local user\'s name is refused (no takeover)', async () => {
      assert.equal((await adminApi(h, 'POST', '/users', { name: 'gina', password: 'gina-local-password' })).status, 201);
      addPerson(slapd, 'Gina', 'gina-directory-pw', ['developers']);
      // `gina` is local: only its local password counts.
      assert.equal((await login(h, 'gina', 'gina-directory-pw', [DEV])).status, 401, 'the local user decides for its name');
      assert.equal((await login(h, 'gina', 'gina-local-password', [DEV])).status, 200);
      // `IVY` is no local user, but the entry the directory finds for it is spelled `ivy`, a
      // local user's name: it must not take that account over.
      assert.equal((await adminApi(h, 'POST', '/users', { name: 'alice', password: 'alice-local-password' })).status, 409, 'alice is already the directory\'s');
      assert.equal((await adminApi(h, 'POST', '/users', { name: 'ivy', password: 'ivy-local-password' })).status, 201);
      addPerson(slapd, 'ivy', 'ivy-directory-pw', ['developers']);
      const conflict = await login(h, 'IVY', 'ivy-directory-pw', [DEV]);
      assert.equal(conflict.status, 401, conflict.text);
      assert.equal((await lastAudit(h, 'IVY')).details.reason, 'local_conflict');
    });

    it('login throttling counts directory failures like local ones', async () => {
      addPerson(slapd, 'hank', 'hank-directory-pw', []);
      for (let i = 0; i < 3; i += 1) assert.equal((await login(h, 'hank', `wrong-${i}`)).status, 401);
      const throttled = await login(h, 'hank', 'hank-directory-pw');
      assert.equal(throttled.status, 429, throttled.text);
      assert.equal((await lastAudit(h, 'hank')).details.reason, 'throttled');
    });
  });

  describe('directory sign-in: cache, precedence directory, group mapping, an unreachable directory', () => {
    let slapd: Slapd;
    before(async () => {
      slapd = await startSlapd();
    });
    after(() => slapd?.stop());

    it('with a cache, refreshes reuse the answer; a password login always asks and ends the cached answer', async () => {
      const h = await startHarness({ config: { ldap: openLdapConfig(slapd.url, { cacheSeconds: 3600 }) } });
      try {
        await grant(h, 'group:developers', 'dev/*', 'pull');
        addPerson(slapd, 'ivan', 'ivan-directory-pw', ['developers']);
        const rt = String((await login(h, 'ivan', 'ivan-directory-pw', [DEV])).body.refresh_token);
        disablePerson(slapd, 'ivan');
        // Within the cache period the refresh still works: this is the bound the setting sets.
        assert.equal((await refresh(h, rt, DEV)).status, 200);
        assert.equal((await login(h, 'ivan', 'ivan-directory-pw', [DEV])).status, 401);
        assert.equal((await refresh(h, rt, DEV)).status, 401, 'the refused login replaced the cached answer');
      } finally {
        await h.close();
      }
    });

    it('precedence directory: the directory decides for the names it knows, local users for the rest', async () => {
      const h = await startHarness({ config: { ldap: openLdapConfig(slapd.url, { precedence: 'directory' }) } });
      try {
        assert.equal((await adminApi(h, 'POST', '/users', { name: 'bob', password: 'bob-local-password' })).status, 201);
        assert.equal((await adminApi(h, 'POST', '/users', { name: 'zoe', password: 'zoe-local-password' })).status, 201);
        assert.equal((await login(h, 'bob', 'bob-local-password')).status, 401);
        assert.equal((await login(h, 'bob', PEOPLE.bob)).status, 200);
        assert.equal((await login(h, 'zoe', 'zoe-local-password')).status, 200);
        // The admin (local, unknown to the directory) still signs in.
        assert.equal((await adminApi(h, 'GET', '/users')).status, 200);
      } finally {
        await h.close();
      }
    });

    it('maps a directory group to another Dockyard group name and makes its members admins', async () => {
      const h = await startHarness({ config: { ldap: openLdapConfig(slapd.url, { groupMap: { 'registry admins': 'admins' }, adminGroup: 'admins' }) } });
      try {
        const r = await login(h, 'alice', PEOPLE.alice, ['repository:anything/at-all:pull,push,delete']);
        assert.deepEqual(accessIn(r), [{ type: 'repository', name: 'anything/at-all', actions: ['pull', 'push', 'delete'] }]);
        assert.equal((await adminApi(h, 'GET', '/users', undefined, basic('alice', PEOPLE.alice))).status, 200);
        assert.equal((await adminApi(h, 'GET', '/users', undefined, basic('bob', PEOPLE.bob))).status, 403);
      } finally {
        await h.close();
      }
    });

    it('with the directory switched off, its users sign in neither by a local password nor by refresh token', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-ldap-off-'));
      try {
        const on = await startHarness({ dataDir, config: { ldap: openLdapConfig(slapd.url) } });
        let rt: string;
        try {
          assert.equal((await login(on, 'bob', PEOPLE.bob)).status, 200);
          assert.ok((await adminApi(on, 'PUT', '/users/bob/password', { password: 'set-by-an-admin' })).status < 300);
          // Issued after the password change, so only the directory check can end it.
          rt = String((await login(on, 'bob', PEOPLE.bob)).body.refresh_token);
          assert.equal((await refresh(on, rt, OPS)).status, 200);
        } finally {
          await on.close();
        }
        const off = await startHarness({ dataDir });
        try {
          assert.equal((await refresh(off, rt, OPS)).status, 401);
          assert.equal((await login(off, 'bob', 'set-by-an-admin')).status, 401);
          assert.equal((await lastAudit(off, 'bob')).details.reason, 'directory_off');
          assert.equal((await adminApi(off, 'GET', '/users')).status, 200, 'local users are unaffected');
        } finally {
          await off.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('an unreachable directory answers 503 for directory users (audited), while local users sign in', async () => {
      const h = await startHarness({ config: { ldap: openLdapConfig('ldap://127.0.0.1:1', { timeoutSeconds: 2 }) } });
      try {
        const r = await login(h, 'alice', PEOPLE.alice);
        assert.equal(r.status, 503, r.text);
        assert.ok(r.headers.get('retry-after'));
        const audit = await lastAudit(h, 'alice');
        assert.equal(audit.outcome, 'unavailable');
        assert.equal(audit.details.reason, 'directory_unavailable');
        assert.equal((await adminApi(h, 'GET', '/users')).status, 200);
        // Also logged and counted, for the operator.
        assert.match(h.logs(), /directory did not answer/);
        const metrics = await (await fetch(`${h.url}/metrics`)).text();
        assert.match(metrics, /auth_directory_requests_total\{operation="authenticate",result="unavailable",service="auth"\} 1/);
      } finally {
        await h.close();
      }
    });
  });
}
