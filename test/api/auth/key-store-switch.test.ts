// A single host switched from the key directory to `auth.keystore: database` (issue 11,
// item 4): its first start on the database imports the key files, so a token issued before
// the switch still verifies against the JWKS after it, the signer does not change, and the
// log says what was imported; a later start imports nothing again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { ADMIN_PASSWORD, ISSUER, SERVICE, adminApi, basic, createUser, getToken, startHarness } from './harness.js';

describe('switching a host to auth.keystore: database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-key-switch-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const kek = join(dataDir, 'key-encryption-key');
  writeFileSync(kek, randomBytes(32).toString('base64'), { mode: 0o600 });
  const scope: Array<[string, string]> = [['service', SERVICE], ['scope', 'repository:team/app:pull']];

  async function jwks(url: string): Promise<JSONWebKeySet> {
    return (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  }

  it('keeps the signer and every published key, so tokens issued before the switch keep verifying', async () => {
    const onFiles = await startHarness({ dataDir, config: { keyPublishAheadSeconds: 0 } });
    let before: string;
    let filesJwks: JSONWebKeySet;
    try {
      await createUser(onFiles, 'rita', 'rita-password-1', [['team/*', 'pull']]);
      assert.equal((await adminApi(onFiles, 'POST', '/keys/rotate')).status, 200, 'a retired key is published too');
      const reply = await getToken(onFiles, scope, basic('rita', 'rita-password-1'));
      assert.equal(reply.status, 200, reply.text);
      before = String(reply.body.token);
      filesJwks = await jwks(onFiles.url);
      assert.equal(filesJwks.keys.length, 3, 'current, next and retired');
    } finally {
      await onFiles.close();
    }

    const database = { keyStore: { kind: 'database' as const, encryptionKeyFile: kek } };
    const onDatabase = await startHarness({ dataDir, config: database });
    try {
      assert.match(onDatabase.logs(), /imported the signing keys of the key directory into the database/);
      const published = await jwks(onDatabase.url);
      assert.deepEqual(published, filesJwks, 'the same keys, in the same order');
      const claims = await jwtVerify(before, createLocalJWKSet(published), { issuer: ISSUER, audience: SERVICE });
      assert.equal(claims.payload.sub, 'rita');
      const after = String((await getToken(onDatabase, scope, basic('rita', 'rita-password-1'))).body.token);
      assert.equal(decodeProtectedHeader(after).kid, decodeProtectedHeader(before).kid, 'the same key signs');
      const rows: Array<{ sealed_private_key: string }> = await onDatabase.db('signing_keys').select('sealed_private_key');
      assert.equal(rows.length, 3);
      for (const row of rows) assert.match(row.sealed_private_key, /^v1\./);
    } finally {
      await onDatabase.close();
    }

    const again = await startHarness({ dataDir, config: database });
    try {
      assert.doesNotMatch(again.logs(), /imported the signing keys/, 'imported once');
      assert.deepEqual(await jwks(again.url), filesJwks);
      const admin = await adminApi(again, 'GET', '/users', undefined, basic('admin', ADMIN_PASSWORD));
      assert.equal(admin.status, 200);
    } finally {
      await again.close();
    }
  });
});
