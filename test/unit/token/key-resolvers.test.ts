import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { certificateBundleResolver, combinedResolver, jwksResolver } from '../../../shared/crypto/token-keys.js';
import { KeySourceUnavailableError, TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { jsonServer, keyFixture, type KeyFixture } from './helpers.js';

const ISSUER = 'dockyard-auth';
const SERVICE = 'dockyard';

describe('key resolvers', () => {
  let fx: KeyFixture;
  let issuer: TokenIssuer;
  before(async () => {
    fx = await keyFixture('resolvers');
    issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300 });
  });
  after(() => fx.cleanup());

  const issue = async (keys: KeyStore = fx.keys): Promise<string> =>
    (await new TokenIssuer({ keys, issuer: ISSUER, ttlSeconds: 300 }).issue({ subject: 's', audience: SERVICE, access: [] })).token;

  it('stops trusting a certificate removed from the bundle once the file is re-checked', async () => {
    const bundle = join(fx.dir, 'revocable.pem');
    writeFileSync(bundle, fx.keys.certificatesPem());
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, cacheSize: 0, keys: await certificateBundleResolver(bundle, { recheckSeconds: 0 }) });
    const token = (await issuer.issue({ subject: 's', audience: SERVICE, access: [] })).token;
    assert.equal((await verifier.verify(token)).sub, 's');
    const other = await KeyStore.open(join(fx.dir, 'other-keys'));
    writeFileSync(bundle, other.certificatesPem());
    await assert.rejects(verifier.verify(token), { code: 'TOKEN_KEY_UNKNOWN' });
  });

  it('keeps the previous trust when the bundle is rewritten with garbage', async () => {
    const bundle = join(fx.dir, 'broken.pem');
    writeFileSync(bundle, fx.keys.certificatesPem());
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, cacheSize: 0, keys: await certificateBundleResolver(bundle, { recheckSeconds: 0 }) });
    writeFileSync(bundle, '-----BEGIN CERTIFICATE-----\nnot base64 DER\n-----END CERTIFICATE-----\n');
    assert.equal((await verifier.verify(await issue())).sub, 's');
  });

  it('fetches a JWKS once per cooldown however many unknown kids arrive', async () => {
    const server = await jsonServer(() => fx.keys.jwks());
    try {
      const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: jwksResolver(server.url, { cooldownSeconds: 3600 }) });
      await verifier.verify(await issue());
      const strangers = await KeyStore.open(join(fx.dir, 'strangers'));
      for (let i = 0; i < 3; i++) await assert.rejects(verifier.verify(await issue(strangers)), { code: 'TOKEN_KEY_UNKNOWN' });
      assert.equal(server.requests(), 1);
    } finally {
      await server.close();
    }
  });

  it('a JWKS fetched just before a rotation already holds the key the rotation makes sign: its tokens verify at once, without another fetch', async () => {
    const rotating = await KeyStore.open(join(fx.dir, 'rotating'), { publishAheadSeconds: 0 });
    const server = await jsonServer(() => rotating.jwks());
    try {
      // A cooldown of an hour: this verifier cannot fetch again during the test.
      const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, cacheSize: 0, keys: jwksResolver(server.url, { cooldownSeconds: 3600 }) });
      const before = await issue(rotating);
      await verifier.verify(before);
      assert.equal(server.requests(), 1);
      const rotated = await rotating.rotate();
      const after = await issue(rotating);
      assert.notEqual(rotated.kid, undefined);
      assert.equal((await verifier.verify(after)).sub, 's', 'the new signer was published before the rotation');
      assert.equal((await verifier.verify(before)).sub, 's', 'the retired key still verifies during its retention');
      assert.equal(server.requests(), 1, 'no fetch was needed');
    } finally {
      await server.close();
    }
  });

  it('a retired key stops verifying at the first JWKS fetch after its retention ended', async () => {
    let clock = Date.now();
    const rotating = await KeyStore.open(join(fx.dir, 'retiring'), { retainSeconds: 60, publishAheadSeconds: 0, now: () => clock });
    const server = await jsonServer(() => rotating.jwks());
    try {
      const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, cacheSize: 0, keys: jwksResolver(server.url, { cooldownSeconds: 0, cacheMaxAgeSeconds: 0 }) });
      const old = await issue(rotating);
      await rotating.rotate();
      clock += 59_000;
      assert.equal((await verifier.verify(old)).sub, 's', 'published until its retention ends');
      clock += 2_000;
      await assert.rejects(verifier.verify(old), { code: 'TOKEN_KEY_UNKNOWN' });
      assert.equal((await verifier.verify(await issue(rotating))).sub, 's');
    } finally {
      await server.close();
    }
  });

  it('combines a bundle and a JWKS: a key from either verifies; once the JWKS is unreachable its last keys still decide', async () => {
    const jwksKeys = await KeyStore.open(join(fx.dir, 'jwks-keys'));
    const server = await jsonServer(() => jwksKeys.jwks());
    const keys = combinedResolver([await certificateBundleResolver(fx.bundlePath), jwksResolver(server.url, { cooldownSeconds: 0 })]);
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys });
    assert.equal((await verifier.verify(await issue())).sub, 's');
    assert.equal((await verifier.verify(await issue(jwksKeys))).sub, 's');
    await server.close();

    const offline = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys });
    const strangers = await KeyStore.open(join(fx.dir, 'strangers-2'));
    // A key neither source knows is the token's fault, not an outage: the JWKS delivered its keys before.
    await assert.rejects(offline.verify(await issue(strangers)), { code: 'TOKEN_KEY_UNKNOWN' });
    assert.equal((await offline.verify(await issue(jwksKeys))).sub, 's');
  });

  it('reports a JWKS that never delivered a key set as unavailable', async () => {
    const server = await jsonServer(() => ({}));
    await server.close();
    const keys = combinedResolver([await certificateBundleResolver(fx.bundlePath), jwksResolver(server.url, { cooldownSeconds: 0 })]);
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys });
    const strangers = await KeyStore.open(join(fx.dir, 'strangers-3'));
    await assert.rejects(verifier.verify(await issue(strangers)), KeySourceUnavailableError);
    assert.equal((await verifier.verify(await issue())).sub, 's', 'the bundle still verifies its own keys');
  });
});
