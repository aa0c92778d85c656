// SQL metacharacters in every auth service parameter that can reach a query: scope,
// account, username, password, client_id, service, refresh_token and grant_type on the
// token endpoint; names and filters on the admin API. On SQLite and on PostgreSQL every
// answer is a 2xx or a 4xx with the error envelope, never a 500, and afterwards the
// accounts and grants are intact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, type AuthHarness, type Reply } from '../../api/auth/harness.js';
import { databaseKinds } from '../databases.js';
import { startAuth } from '../services.js';
import { assertNoServerErrorReply, databaseFor, hostileStrings, MUST_CHECK } from './sql-inputs.js';

for (const { kind, skip } of await databaseKinds()) {
  describe(`SQL metacharacters against the auth service on ${kind}`, { skip }, () => {
    let auth: AuthHarness;
    before(async () => {
      // The throttle would turn the flood of failures into 429s; it has its own tests.
      auth = await startAuth({ database: await databaseFor(kind, 'auth'), env: { AUTH_LOGIN_MAX_FAILURES: '1000000', AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000' } });
      await createUser(auth, 'alice', 'alice-password', [['sql/*', 'pull']]);
    });
    after(() => auth?.close());

    it('property: no token request parameter makes the token endpoint fail', async () => {
      await fc.assert(
        fc.asyncProperty(hostileStrings, async (s) => {
          const checks: Array<[string, Promise<Reply>]> = [
            ['scope', getToken(auth, [['service', SERVICE], ['scope', `repository:${s}:pull`], ['scope', s]], basic('alice', 'alice-password'))],
            ['account', getToken(auth, [['service', SERVICE], ['account', s]], basic(s, 'x'))],
            ['username', getToken(auth, [['service', SERVICE]], basic(s, 'alice-password'))],
            ['password', getToken(auth, [['service', SERVICE]], basic('alice', s))],
            ['client_id', getToken(auth, [['service', SERVICE], ['client_id', s], ['offline_token', 'true']], basic('alice', 'alice-password'))],
            ['service', getToken(auth, [['service', s]])],
            ['POST username', postToken(auth, { grant_type: 'password', username: s, password: s, client_id: 'docker', service: SERVICE })],
            ['POST client_id', postToken(auth, { grant_type: 'password', username: 'alice', password: 'alice-password', client_id: s, access_type: 'offline', service: SERVICE })],
            ['POST refresh_token', postToken(auth, { grant_type: 'refresh_token', refresh_token: s, client_id: s, service: SERVICE, scope: s })],
            ['POST grant_type', postToken(auth, { grant_type: s, client_id: 'docker' })],
          ];
          for (const [what, reply] of checks) assertNoServerErrorReply(await reply, `${what} = ${JSON.stringify(s).slice(0, 80)}`);
        }),
        { numRuns: 20, seed: 0x5ec0008, examples: MUST_CHECK },
      );
    });

    it('property: no admin API name or filter makes the admin API fail', async () => {
      await fc.assert(
        fc.asyncProperty(hostileStrings, async (s) => {
          const e = encodeURIComponent(s);
          for (const path of [`/users/${e}`, `/groups/${e}`, `/grants?subject=${e}`, `/grants?subject=user:${e}`, `/refresh-tokens?subject=user:${e}`, `/audit?actor=${e}&action=${e}&outcome=${e}`]) {
            assertNoServerErrorReply(await adminApi(auth, 'GET', path), `GET ${path}`);
          }
          assertNoServerErrorReply(await adminApi(auth, 'POST', '/users', { name: s, password: 'long-enough-password' }), 'POST /users');
          assertNoServerErrorReply(await adminApi(auth, 'POST', `/robots/${e}/revoke`), 'revoke robot');
        }),
        { numRuns: 10, seed: 0x5ec0009, examples: MUST_CHECK },
      );
    });

    it('the accounts and grants are intact: alice logs in, no stored name holds anything hostile', async () => {
      const reply = await getToken(auth, [['service', SERVICE], ['scope', 'repository:sql/app:pull,push']], basic('alice', 'alice-password'));
      assert.equal(reply.status, 200, reply.text);
      // POST /users above may have created users with valid names; none may hold anything else.
      const names = ((await adminApi(auth, 'GET', '/users')).body.users as Array<{ name: string }>).map((u) => u.name);
      assert.ok(names.includes('admin') && names.includes('alice'), names.join(', '));
      for (const name of names) assert.match(name, /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/);
      const grants = await adminApi(auth, 'GET', '/grants?subject=user:alice');
      assert.equal((grants.body.grants as unknown[]).length, 1);
    });
  });
}
