// Two auth service replicas as on two hosts (issue 11, item 4): their own data
// directories, one PostgreSQL schema, signing keys in the auth database sealed with the same
// key-encryption key file. Both start and migrate at once; a refresh token from one
// redeems on the other; failed logins on both count together; a rotation on one is the
// signer of the other and its tokens are accepted at once, without a fetch, by a registry
// verifier (default 10 s refetch interval) that fetched the other's JWKS before the
// rotation, and by both replicas' admin API; a replica with a different key-encryption key refuses to start, naming the
// setting, not the secret; the database holds no usable private key.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, SignJWT } from 'jose';
import pg from 'pg';
import { pino } from 'pino';
import { jwksResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { ADMIN_API_AUDIENCE } from '../../../services/auth/admin-gate.js';
import { startAuthService, type RunningAuthService } from '../../../services/auth/main.js';
import { POSTGRES_URL, postgresAdminQuery, postgresSuiteGate } from '../../support/postgres.js';
import { ADMIN_PASSWORD, ISSUER, SERVICE, adminApi, basic, createUser, getToken, postToken, testConfig, type AuthHarness } from './harness.js';

const MAX_FAILURES = 4;
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A well-formed token naming a kid nobody publishes. */
function forgedToken(i: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ access: [] })
    .setProtectedHeader({ alg: 'ES256', kid: `FORGED:${i}` })
    .setIssuer(ISSUER).setAudience(SERVICE).setSubject('mallory').setExpirationTime(now + 60)
    .sign(attacker.privateKey);
}

/** An admin API token (password login for the admin API audience). */
async function adminApiToken(h: AuthHarness): Promise<string> {
  const reply = await postToken(h, { grant_type: 'password', username: 'admin', password: ADMIN_PASSWORD, client_id: 'test-ui', service: ADMIN_API_AUDIENCE });
  assert.equal(reply.status, 200, reply.text);
  return String(reply.body.token);
}

/** Serves `target` (a JWKS URL) on 127.0.0.1 and counts the fetches that pass. */
async function countingJwksProxy(target: string): Promise<{ url: string; fetches: () => number; close: () => Promise<void> }> {
  let fetches = 0;
  const server = createServer((req, res) => {
    fetches++;
    fetch(target).then(
      async (upstream) => {
        res.writeHead(upstream.status, { 'content-type': 'application/json' });
        res.end(await upstream.text());
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/jwks.json`, fetches: () => fetches, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

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
      const { rows: keys } = await observer.query('select kid from signing_keys where retain_until is null and not is_next');
      assert.equal(keys.length, 1);
      const { rows: next } = await observer.query('select kid from signing_keys where retain_until is null and is_next');
      assert.equal(next.length, 1, 'one next key');
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

    it('a rotation on one replica: its tokens verify at once at a registry that fetched the JWKS before, and on every replica; forged kids cost at most one fetch per interval', async () => {
      // The registry's JWKS client as configured by default (refetch at most once per 10 s),
      // behind a counter of the fetches that reach the auth service.
      const jwks = await countingJwksProxy(`${b.url}/.well-known/jwks.json`);
      try {
        const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, cacheSize: 0, keys: jwksResolver(jwks.url) });
        const scope: Array<[string, string]> = [['service', SERVICE], ['scope', 'repository:team/app:pull']];
        const before = await getToken(b, scope, basic('rita', 'rita-password-1'));
        await verifier.verify(String(before.body.token));
        assert.equal(jwks.fetches(), 1);
        const oldKid = decodeProtectedHeader(String(before.body.token)).kid;
        const adminBefore = await adminApiToken(a);

        const rotated = await adminApi(a, 'POST', '/keys/rotate');
        assert.equal(rotated.status, 200, rotated.text);
        const newKid = String(rotated.body.kid);
        assert.notEqual(newKid, oldKid);

        // Right after the command returned: replica a signs with the new key, and the
        // registry verifies it with the key set it fetched before the rotation.
        const fresh = String((await getToken(a, scope, basic('rita', 'rita-password-1'))).body.token);
        assert.equal(decodeProtectedHeader(fresh).kid, newKid);
        assert.equal((await verifier.verify(fresh)).sub, 'rita');
        assert.equal(jwks.fetches(), 1, 'the new key was in the key set fetched before the rotation');
        await verifier.verify(String(before.body.token)); // tokens of the retired key stay valid

        // Every replica accepts admin API tokens of the new key and of the retired one.
        const adminAfter = await adminApiToken(a);
        assert.equal(decodeProtectedHeader(adminAfter).kid, newKid);
        for (const replica of [a, b]) {
          for (const token of [adminAfter, adminBefore]) {
            const listed = await adminApi(replica, 'GET', '/users', undefined, `Bearer ${token}`);
            assert.equal(listed.status, 200, listed.text);
          }
        }

        // The other replica checks the table at most once a second on the token path.
        let kid: unknown;
        let token = '';
        for (let i = 0; i < 100 && kid !== newKid; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          token = String((await getToken(b, scope, basic('rita', 'rita-password-1'))).body.token);
          kid = decodeProtectedHeader(token).kid;
        }
        assert.equal(kid, newKid, 'replica b signs with the key rotated on replica a');
        assert.equal((await verifier.verify(token)).sub, 'rita');

        const published = (await (await fetch(`${b.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
        const upcoming = published.keys[1]?.kid;
        assert.ok(upcoming !== undefined && upcoming !== newKid && upcoming !== oldKid);
        assert.deepEqual(published.keys.map((k) => k.kid), [newKid, upcoming, oldKid], 'b publishes the new key, the next one and the retired one');
        const pem = await (await fetch(`${b.url}/certs.pem`)).text();
        assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, 3);

        // Tokens naming made-up kids: one fetch per 10 s interval at most, however many arrive.
        const fetchesBefore = jwks.fetches();
        const started = Date.now();
        await Promise.all(Array.from({ length: 50 }, async (_, i) => assert.rejects(verifier.verify(await forgedToken(i)), { code: 'TOKEN_KEY_UNKNOWN' })));
        for (let i = 50; i < 100; i++) await assert.rejects(verifier.verify(await forgedToken(i)), { code: 'TOKEN_KEY_UNKNOWN' });
        const extra = jwks.fetches() - fetchesBefore;
        assert.ok(extra <= 1 + Math.ceil((Date.now() - started) / 10_000), `${extra} fetches for 100 forged kids`);
      } finally {
        await jwks.close();
      }
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
