/**
 * The signing keys kept in the auth database (services/auth/keys/) against a real database:
 * first key created once by concurrent openers (two pools on PostgreSQL, as two replicas),
 * a rotation by one store picked up by another, retired keys published until their
 * retention ends and deleted by a later rotation, and a store whose key-encryption key
 * differs refusing the keys. Run on SQLite (signing-keys-sqlite.test.ts) and PostgreSQL
 * (signing-keys-postgres.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DatabaseKeyStore } from '../../services/auth/keys/database-key-store.js';
import { KeySealer } from '../../services/auth/keys/sealing.js';
import type { AuthDbFixture } from './auth-store.contract.js';

/** A key-encryption key as its file holds it (`openssl rand -base64 32`): raw random bytes could start or end with whitespace, which the file reader trims. */
function kekText(): Buffer {
  return Buffer.from(randomBytes(32).toString('base64'));
}

const RETAIN_SECONDS = 60;

export function runSigningKeysContract(dialect: string, open: () => Promise<AuthDbFixture>): void {
  describe(`signing keys in the auth database on ${dialect}`, () => {
    let fx: AuthDbFixture;
    const sealer = KeySealer.fromSecret(kekText());
    let clock = Date.now();
    const now = () => clock;
    before(async () => {
      fx = await open();
    });
    after(async () => {
      await fx?.dispose();
    });

    test('concurrent first opens create one key; a rotation on one store is seen by the other; retired keys stay published until their retention ends', async () => {
      const peer = fx.openPeer();
      const [a, b] = await Promise.all([
        DatabaseKeyStore.open(fx.db, sealer, { retainSeconds: RETAIN_SECONDS, now }),
        DatabaseKeyStore.open(peer, sealer, { retainSeconds: RETAIN_SECONDS, now }),
      ]);
      assert.equal(Number((await fx.db('signing_keys').count({ n: '*' }))[0]!.n), 1, 'one key');
      const first = a.current().kid;
      assert.equal(b.current().kid, first);

      const second = (await a.rotate()).kid;
      assert.notEqual(second, first);
      assert.equal(await b.refresh(), true, 'b notices the rotation');
      assert.equal(b.current().kid, second);
      assert.deepEqual(b.jwks().keys.map((k) => k.kid), [second, first]);
      assert.equal(b.certificatesPem().match(/BEGIN CERTIFICATE/g)?.length, 2);
      assert.equal(await b.refresh(), false, 'nothing changed since');

      clock += (RETAIN_SECONDS + 1) * 1000;
      assert.deepEqual(b.jwks().keys.map((k) => k.kid), [second], 'the retired key is no longer published');
      const third = (await b.rotate()).kid;
      const kids = (await fx.db('signing_keys').select('kid')).map((r: { kid: string }) => r.kid).sort();
      assert.deepEqual(kids, [second, third].sort(), 'the expired key was deleted by the rotation');
      await a.refresh();
      assert.equal(a.current().kid, third);
    });

    test('a store with another key-encryption key refuses the keys', async () => {
      await assert.rejects(DatabaseKeyStore.open(fx.db, KeySealer.fromSecret(kekText())), /does not open with this key encryption key/);
    });
  });
}
