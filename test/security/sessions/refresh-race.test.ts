// A refresh token never outlives the credentials it was issued under (issue 18.2). The
// token flow checks the password (TokenService.login) and only then inserts the refresh
// token (TokenService.grant); an admin's password change, disable or delete can commit in
// between, after its revocation of the user's tokens ran. The test makes that interleaving
// happen on purpose, with the service's own objects on a real database (SQLite, and
// PostgreSQL when it answers): login, then the admin change, then the insert, then the
// redemption, which must be refused because the token is bound to the user's id and
// credential version.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrateLatest, openDatabase, type Knex } from '../../../shared/db/index.js';
import { DockyardError } from '../../../shared/http/errors.js';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { AuditLog } from '../../../services/auth/audit.js';
import { Authenticator } from '../../../services/auth/authenticate.js';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { AdminOperations } from '../../../services/auth/operations/index.js';
import { AuditStore } from '../../../services/auth/store/audit.js';
import { LoginAttemptStore } from '../../../services/auth/store/login-attempts.js';
import { DEFAULT_THROTTLE, LoginThrottle } from '../../../services/auth/throttle.js';
import { TokenService, type TokenRequestInfo } from '../../../services/auth/tokens.js';
import { databaseKinds, postgresDatabase, sqliteDatabase, type TestDatabase } from '../databases.js';

const SERVICE = 'race-registry';
const cli = { name: 'cli:test', address: '' };
const info: TokenRequestInfo & { clientId: string } = { via: 'get', service: SERVICE, clientAddress: '192.0.2.1', clientId: 'docker', requested: [] };

for (const { kind, skip } of await databaseKinds()) {
  describe(`refresh tokens issued around a credential change (${kind})`, { skip }, () => {
    let dir: string;
    let database: TestDatabase;
    let db: Knex;
    let tokens: TokenService;
    let ops: AdminOperations;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dockyard-refresh-race-'));
      database = kind === 'sqlite' ? sqliteDatabase(dir, 'auth') : await postgresDatabase('refresh_race');
      db = openDatabase(database.config);
      await migrateLatest(db, 'auth');
      const throttle = new LoginThrottle(new LoginAttemptStore(db), DEFAULT_THROTTLE);
      const issuer = new TokenIssuer({ keys: await KeyStore.open(join(dir, 'keys')), issuer: 'race-auth', ttlSeconds: 60 });
      const authenticator = new Authenticator({ db, bcryptCost: 4, throttle });
      tokens = new TokenService({ db, issuer, authenticator, throttle, audit: new AuditLog(new AuditStore(db)), service: SERVICE, refreshIdleSeconds: 3600 });
      ops = new AdminOperations({ db, bcryptCost: 4 });
    });
    after(async () => {
      await db?.destroy();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Logs `name` in, lets `change` commit, then inserts the refresh token: the race, in order. */
    async function tokenAcross(name: string, password: string, change: () => Promise<unknown>): Promise<string> {
      const principal = await tokens.login(name, password, info);
      await change();
      const grant = await tokens.grant(principal, info, true);
      assert.ok(grant.refreshToken);
      return grant.refreshToken;
    }

    async function assertRefused(refreshToken: string, what: string): Promise<void> {
      await assert.rejects(tokens.redeem(refreshToken, info), (e) => e instanceof DockyardError && e.code === 'UNAUTHORIZED', what);
    }

    it('a token issued with nothing in between redeems (the control)', async () => {
      await ops.users.create(cli, { name: 'steady', password: 'steady-password' });
      const token = await tokenAcross('steady', 'steady-password', async () => undefined);
      assert.equal((await tokens.redeem(token, info)).name, 'steady');
    });

    it('a password change between the password check and the insert: the token never redeems', async () => {
      await ops.users.create(cli, { name: 'changer', password: 'old-password' });
      const token = await tokenAcross('changer', 'old-password', () => ops.users.setPassword(cli, 'changer', 'new-password'));
      await assertRefused(token, 'issued against the old password');
      const fresh = await tokenAcross('changer', 'new-password', async () => undefined);
      assert.equal((await tokens.redeem(fresh, info)).name, 'changer', 'a token issued under the new password works');
    });

    it('disable and enable again in between: the token never redeems', async () => {
      await ops.users.create(cli, { name: 'sleeper', password: 'sleeper-password' });
      const token = await tokenAcross('sleeper', 'sleeper-password', async () => {
        await ops.users.setDisabled(cli, 'sleeper', true);
        await ops.users.setDisabled(cli, 'sleeper', false);
      });
      await assertRefused(token, 'issued before the account was disabled');
    });

    it('the user deleted and re-created under the same name in between: the token never redeems for the new user', async () => {
      await ops.users.create(cli, { name: 'namesake', password: 'first-password' });
      const token = await tokenAcross('namesake', 'first-password', async () => {
        await ops.users.delete(cli, 'namesake');
        await ops.users.create(cli, { name: 'namesake', password: 'second-password' });
      });
      await assertRefused(token, "issued to the deleted user, redeemed against its namesake's account");
    });
  });
}
