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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DatabaseKeyStore } from '../../services/auth/keys/database-key-store.js';
import { KeySealer } from '../../services/auth/keys/sealing.js';
import { KeyStore } from '../../shared/crypto/keys.js';
import type { AuthDbFixture } from './auth-store.contract.js';

/** A key-encryption key as its file holds it (`openssl rand -base64 32`): raw random bytes could start or end with whitespace, which the file reader trims. */
function kekText(): Buffer {
  return Buffer.from(randomBytes(32).toString('base64'));
}

const RETAIN_SECONDS = 60;
/** Rotations that need not wait for the next key's publication (tests of other things). */
const NO_WAIT = { publishAheadSeconds: 0 };

/** The kid of the row published ahead. */
async function nextKid(db: AuthDbFixture['db']): Promise<string> {
  return (await db('signing_keys').whereNull('retain_until').where({ is_next: true }).first('kid')).kid;
}

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
        DatabaseKeyStore.open(fx.db, sealer, { retainSeconds: RETAIN_SECONDS, now, ...NO_WAIT }),
        DatabaseKeyStore.open(peer, sealer, { retainSeconds: RETAIN_SECONDS, now, ...NO_WAIT }),
      ]);
      assert.equal(Number((await fx.db('signing_keys').count({ n: '*' }))[0]!.n), 2, 'one current and one next key');
      const first = a.current().kid;
      assert.equal(b.current().kid, first);
      const published = await nextKid(fx.db);
      assert.deepEqual(b.jwks().keys.map((k) => k.kid), [first, published], 'the next key is published before it signs');

      const second = (await a.rotate()).kid;
      assert.equal(second, published, 'the rotation makes the key published ahead sign');
      assert.equal(await b.refresh(), true, 'b notices the rotation');
      assert.equal(b.current().kid, second);
      const upcoming = await nextKid(fx.db);
      assert.deepEqual(b.jwks().keys.map((k) => k.kid), [second, upcoming, first]);
      assert.equal(b.certificatesPem().match(/BEGIN CERTIFICATE/g)?.length, 3);
      assert.equal(await b.refresh(), false, 'nothing changed since');

      clock += (RETAIN_SECONDS + 1) * 1000;
      assert.deepEqual(b.jwks().keys.map((k) => k.kid), [second, upcoming], 'the retired key is no longer published');
      const third = (await b.rotate()).kid;
      assert.equal(third, upcoming);
      const kids = (await fx.db('signing_keys').select('kid')).map((r: { kid: string }) => r.kid).sort();
      assert.deepEqual(kids, [second, third, await nextKid(fx.db)].sort(), 'the expired key was deleted by the rotation');
      await a.refresh();
      assert.equal(a.current().kid, third);
    });

    test('a rotation makes the next key sign only after it was published for the publish-ahead time', async () => {
      await fx.db('signing_keys').delete(); // the first test's keys were created on its advanced clock
      const store = await DatabaseKeyStore.open(fx.db, sealer, { publishAheadSeconds: 1 });
      const published = await fx.db('signing_keys').whereNull('retain_until').where({ is_next: true }).first('kid', 'created_at');
      const rotated = await store.rotate();
      assert.equal(rotated.kid, published.kid);
      assert.ok(Date.now() >= Number(published.created_at) + 1000, 'the rotation waited until the next key had been published for 1 s');
    });

    test('a rotation after an earlier version retired the next key publishes a new next key first, then makes it sign', async () => {
      await fx.db('signing_keys').delete();
      const store = await DatabaseKeyStore.open(fx.db, sealer, NO_WAIT);
      const current = store.current().kid;
      const next = await nextKid(fx.db);
      // What a rotation by a replica of the previous version does to the next key.
      await fx.db('signing_keys').where({ kid: next }).update({ retain_until: Date.now() + 60_000 });
      const rotated = (await store.rotate()).kid;
      assert.ok(![current, next].includes(rotated), 'a key published by this rotation, not the retired one');
      assert.equal(store.current().kid, rotated);
      const upcoming = await nextKid(fx.db);
      assert.ok(upcoming !== undefined && upcoming !== rotated);
      assert.deepEqual(store.jwks().keys.slice(0, 2).map((k) => k.kid), [rotated, upcoming]);
    });

    test('the first open imports the keys of a key directory (current, next, retired still published) once; tokens of the directory keep their signer', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockyard-import-'));
      try {
        const files = await KeyStore.open(dir, { retainSeconds: 3600, ...NO_WAIT });
        const retired = files.current().kid;
        await files.rotate();
        const expected = files.jwks().keys.map((k) => k.kid);
        assert.equal(expected.length, 3, 'current, next and the retired key');
        assert.equal(expected[2], retired);

        await fx.db('signing_keys').delete();
        const imported: string[][] = [];
        const onImport = (kids: string[]) => imported.push(kids);
        const peer = fx.openPeer();
        const [a, b] = await Promise.all([
          DatabaseKeyStore.open(fx.db, sealer, { importFrom: dir, onImport }),
          DatabaseKeyStore.open(peer, sealer, { importFrom: dir, onImport }),
        ]);
        assert.equal(imported.length, 1, 'one opener imported');
        assert.deepEqual([...imported[0]!].sort(), [...expected].sort());
        for (const store of [a, b]) {
          assert.equal(store.current().kid, files.current().kid, 'the directory’s signer still signs');
          assert.deepEqual(store.jwks(), files.jwks(), 'the same keys are published, in the same order');
          assert.equal(store.certificatesPem(), files.certificatesPem());
        }
        assert.ok(a.current().privateKey.equals(files.current().privateKey));
        const rows: Array<{ sealed_private_key: string; retain_until: unknown }> = await fx.db('signing_keys').select('sealed_private_key', 'retain_until');
        assert.equal(rows.length, 3);
        for (const row of rows) {
          assert.match(row.sealed_private_key, /^v1\./);
          assert.doesNotMatch(row.sealed_private_key, /PRIVATE KEY/);
        }
        assert.equal(rows.filter((r) => r.retain_until !== null).length, 1, 'the retired key keeps its retention end');
        assert.equal(await nextKid(fx.db), expected[1]);

        // Once: a later start (the keys rotated in the database meanwhile) imports nothing.
        const rotated = (await a.rotate()).kid;
        assert.equal(rotated, expected[1]);
        // Even once the directory's keys are gone from the table (retention over, deleted),
        // they never come back: the table has a current key.
        await fx.db('signing_keys').whereIn('kid', expected.filter((kid) => kid !== rotated)).delete();
        const again = await DatabaseKeyStore.open(fx.db, sealer, { importFrom: dir, onImport });
        assert.equal(imported.length, 1);
        assert.equal(again.current().kid, rotated);
        assert.ok(!again.jwks().keys.some((k) => k.kid === expected[0]), 'the directory’s old signer is not imported again');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an import skips retired keys whose retention ended; a directory without keys imports nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockyard-import-'));
      try {
        let clock = Date.now();
        const files = await KeyStore.open(dir, { retainSeconds: 60, now: () => clock, ...NO_WAIT });
        const retired = files.current().kid;
        await files.rotate();
        clock += 61_000;
        await fx.db('signing_keys').delete();
        const store = await DatabaseKeyStore.open(fx.db, sealer, { importFrom: dir, now: () => clock });
        assert.equal(store.current().kid, files.current().kid);
        assert.ok(!store.jwks().keys.some((k) => k.kid === retired), 'the expired key is not imported');
        assert.equal(Number((await fx.db('signing_keys').count({ n: '*' }))[0]!.n), 2);

        await fx.db('signing_keys').delete();
        const fresh = await DatabaseKeyStore.open(fx.db, sealer, { importFrom: join(dir, 'missing') });
        assert.ok(!files.jwks().keys.some((k) => k.kid === fresh.current().kid), 'a new key when there is nothing to import');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a store with another key-encryption key refuses the keys', async () => {
      await assert.rejects(DatabaseKeyStore.open(fx.db, KeySealer.fromSecret(kekText())), /does not open with this key encryption key/);
    });
  });
}
