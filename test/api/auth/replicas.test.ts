// Two auth service replicas as on two hosts (issue 11, item 4): their own data
// directories, one PostgreSQL schema, signing keys in the auth database sealed with the same
// key-encryption key file. Both start and migrate at once; a refresh token from one
// redeems on the other; failed logins on both count together; a rotation on one is the
// signer of the other and is accepted by a registry verifier that knows the JWKS of the
// other only; a replica with a different key-encryption key refuses to start, naming the
// setting, not the secret; the database holds no usable private key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { pino } from 'pino';
import { jwksResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { startAuthService, type RunningAuthService } from '../../../services/auth/main.js';
import { POSTGRES_URL, postgresAdminQuery, postgresSuiteGate } from '../../support/postgres.js';
import { ADMIN_PASSWORD, ISSUER, SERVICE, adminApi, basic, createUser, getToken, postToken, testConfig, type AuthHarness } from './harness.js';

const MAX_FAILURES = 4;

if (await postgresSuiteGate('auth replicas')) {
  describe('two auth replicas on one PostgreSQL database', () => {
    const schema = `dockyard_auth_replicas_${process.pid}_${randomBytes(4).toString('hex')}`;
    const root = mkdtempSync(join(tmpdir(), 'dockyard-auth-replicas-'));
    const secret = randomBytes(32).toString('base64');
    const kekFile = join(root, 'kek');
    let logText = '';
    const replicas: RunningAuthService[] = [];
    let a: AuthHarness;
    let b: AuthHarness;
    let observer: pg.Client;

    function start(name: string, kek = kekFile): Promise<RunningAuthService> {
      const dataDir = join(root, name);
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logText += chunk.toString('utf8');
          done();
        },
      });
      const config = testConfig(dataDir, {
        database: { client: 'pg', connection: POSTGRES_URL, schema },
        keyStore: { kind: 'database', encryptionKeyFile: kek },
        login: { maxFailures: MAX_FAILURES, addressMaxFailures: 100, accountMaxFailures: 100, windowSeconds: 600 },
      });
      return startAuthService(config, { logger: pino({ level: 'debug' }, sink), env: { DOCKYARD_ADMIN_PASSWORD: ADMIN_PASSWORD }, announce: () => undefined });
    }

    /** The harness helpers only need the URL. */
    const harnessOf = (running: RunningAuthService): AuthHarness => ({ url: running.url }) as AuthHarness;

    before(async () => {
      writeFileSync(kekFile, `${secret}\n`, { mode: 0o600 });
      await postgresAdminQuery(`create schema "${schema}"`);
      // Both start on an empty schema at once: knex's migration lock lets one migrate, the
      // key table's lock lets one create the first key, the users table one first admin.
      replicas.push(...(await Promise.all([start('a'), start('b')])));
      [a, b] = replicas.map(harnessOf) as [AuthHarness, AuthHarness];
      observer = new pg.Client({ connectionString: POSTGRES_URL });
      await observer.connect();
      await observer.query(`set search_path to "${schema}"`);
    });
    after(async () => {
      for (const replica of replicas) await replica.close();
      await observer?.end();
      await postgresAdminQuery(`drop schema if exists "${schema}" cascade`);
      rmSync(root, { recursive: true, force: true });
    });

    it('started together: one migration run, one first admin, one current key signing on both', async () => {
      const { rows: migrations } = await observer.query<{ name: string }>('select name from knex_migrations_auth');
      assert.equal(new Set(migrations.map((m) => m.name)).size, migrations.length, 'every migration ran once');
      const { rows: admins } = await observer.query('select name from users');
      assert.deepEqual(admins, [{ name: 'admin' }]);
      const { rows: keys } = await observer.query('select kid from signing_keys where retain_until is null');
      assert.equal(keys.length, 1);
      assert.equal(replicas[0]!.keys.current().kid, keys[0].kid);
      assert.equal(replicas[1]!.keys.current().kid, keys[0].kid);
    });

    it('a refresh token issued by one replica redeems on the other', async () => {
      await createUser(a, 'rita', 'rita-password-1', [['team/*', 'pull,push']]);
      const login = await getToken(a, [['account', 'rita'], ['client_id', 'docker'], ['offline_token', 'true'], ['service', SERVICE]], basic('rita', 'rita-password-1'));
      assert.equal(login.status, 200, login.text);
      const refreshed = await postToken(b, {
        grant_type: 'refresh_token',
        refresh_token: String(login.body.refresh_token),
        client_id: 'docker',
        service: SERVICE,
        scope: 'repository:team/app:pull',
      });
      assert.equal(refreshed.status, 200, refreshed.text);
    });

    it('failed logins on both replicas count together', async () => {
      await createUser(a, 'gus', 'gus-password-1');
      const statuses: number[] = [];
      for (let i = 0; i < MAX_FAILURES + 1; i++) {
        const target = i % 2 === 0 ? a : b;
        statuses.push((await getToken(target, [['service', SERVICE]], basic('gus', `wrong-${i}`))).status);
      }
      assert.deepEqual(statuses, [...Array(MAX_FAILURES).fill(401), 429], 'the fifth attempt is refused, wherever it lands');
      const right = await getToken(b, [['service', SERVICE]], basic('gus', 'gus-password-1'));
      assert.equal(right.status, 429, 'the right password is not evaluated either while throttled');
    });

    it('a rotation on one replica signs on the other, and a registry trusting the other’s JWKS accepts it', async () => {
      const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: jwksResolver(`${b.url}/.well-known/jwks.json`, { cooldownSeconds: 0 }) });
      const scope: Array<[string, string]> = [['service', SERVICE], ['scope', 'repository:team/app:pull']];
      const before = await getToken(b, scope, basic('rita', 'rita-password-1'));
      await verifier.verify(String(before.body.token));
      const oldKid = decodeProtectedHeader(String(before.body.token)).kid;

      const rotated = await adminApi(a, 'POST', '/keys/rotate');
      assert.equal(rotated.status, 200, rotated.text);
      const newKid = String(rotated.body.kid);
      assert.notEqual(newKid, oldKid);

      // The other replica checks the table at most once a second on the token path.
      let kid: unknown;
      let token = '';
      for (let i = 0; i < 100 && kid !== newKid; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        token = String((await getToken(b, scope, basic('rita', 'rita-password-1'))).body.token);
        kid = decodeProtectedHeader(token).kid;
      }
      assert.equal(kid, newKid, 'replica b signs with the key rotated on replica a');
      const verified = await verifier.verify(token);
      assert.equal(verified.sub, 'rita');
      await verifier.verify(String(before.body.token)); // tokens of the retired key stay valid

      const jwks = (await (await fetch(`${b.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
      assert.deepEqual(jwks.keys.map((k) => k.kid), [newKid, oldKid], 'b publishes the new key first and keeps the old one');
      const pem = await (await fetch(`${b.url}/certs.pem`)).text();
      assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    });

    it('the database holds sealed keys only; a replica with another key-encryption key refuses to start without naming the secret', async () => {
      const { rows } = await observer.query<{ kid: string; sealed_private_key: string }>('select kid, sealed_private_key from signing_keys');
      for (const row of rows) {
        assert.match(row.sealed_private_key, /^v1\./);
        assert.ok(!row.sealed_private_key.includes('PRIVATE KEY'));
      }
      const otherSecret = randomBytes(32).toString('base64');
      const otherFile = join(root, 'other-kek');
      writeFileSync(otherFile, otherSecret, { mode: 0o600 });
      await assert.rejects(start('c', otherFile), (err: Error) => {
        assert.match(err.message, /does not open with this key encryption key: every auth replica needs the same auth\.keyencryptionkeyfile/);
        assert.ok(!err.message.includes(otherSecret));
        return true;
      });
      const shortFile = join(root, 'short-kek');
      writeFileSync(shortFile, 'too-short', { mode: 0o600 });
      await assert.rejects(start('d', shortFile), /needs at least 32 random bytes/);
      assert.ok(!logText.includes(secret) && !logText.includes(otherSecret), 'no key-encryption key in the logs');
    });
  });
}
