// However many tokens with made-up key ids arrive, each key source re-reads or re-fetches at
// most once per interval (shared by all requests). The bound checked is computed from the
// measured duration of the burst, so a slow machine cannot make the test fail.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { certificateBundleResolver, jwksResolver, keyStoreResolver } from '../../../shared/crypto/token-keys.js';
import { KeySourceUnavailableError, TokenVerifier, type KeyResolver } from '../../../shared/crypto/token-verifier.js';
import { jsonServer, keyFixture, type KeyFixture } from './helpers.js';

const ISSUER = 'dockyard-auth';
const SERVICE = 'dockyard';
const BURST = 200;
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A validly formed token signed by a key nobody trusts, naming a key id nobody knows. */
function forged(i: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ access: [] })
    .setProtectedHeader({ alg: 'ES256', kid: `FORGED:${i}` })
    .setIssuer(ISSUER).setAudience(SERVICE).setSubject('mallory').setExpirationTime(now + 60)
    .sign(attacker.privateKey);
}

/** Verifies BURST forged tokens (half at once, half one after the other); returns how long it took. */
async function burst(keys: KeyResolver, expected: (err: unknown) => boolean): Promise<number> {
  const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys, cacheSize: 0 });
  const tokens = await Promise.all(Array.from({ length: BURST }, (_, i) => forged(i)));
  const started = Date.now();
  await Promise.all(tokens.slice(0, BURST / 2).map((token) => assert.rejects(verifier.verify(token), expected)));
  for (const token of tokens.slice(BURST / 2)) await assert.rejects(verifier.verify(token), expected);
  return Date.now() - started;
}

/** Most refreshes an interval limiter allows in `elapsedMs` (one at the start, one per interval after). */
const allowed = (elapsedMs: number, intervalMs: number): number => 1 + Math.floor(elapsedMs / intervalMs) + 1;
const unknownKey = (err: unknown) => (err as { code?: string }).code === 'TOKEN_KEY_UNKNOWN';

describe('key refresh bound under a burst of unknown key ids', () => {
  let fx: KeyFixture;
  before(async () => (fx = await keyFixture('refresh-bound')));
  after(() => fx.cleanup());

  it('key directory (npm start): at most one check of the directory per interval', async () => {
    const store = await KeyStore.open(join(fx.dir, 'keys'));
    let checks = 0;
    const refresh = store.refresh.bind(store);
    store.refresh = (maxAgeMs?: number) => {
      checks++;
      return refresh(maxAgeMs);
    };
    const elapsed = await burst(keyStoreResolver(store, { refreshIntervalMs: 1000 }), unknownKey);
    assert.ok(checks >= 1, 'an unknown kid makes the store look for a rotation');
    assert.ok(checks <= allowed(elapsed, 1000), `${checks} directory checks in ${elapsed} ms`);
  });

  it('certificate bundle: at most one read of the file per interval', async () => {
    const resolver = await certificateBundleResolver(fx.bundlePath, { refreshIntervalMs: 1000 });
    let reads = 0;
    const reload = resolver.reloadIfChanged.bind(resolver);
    resolver.reloadIfChanged = () => {
      reads++;
      return reload();
    };
    const elapsed = await burst(resolver, unknownKey);
    assert.ok(reads >= 1);
    assert.ok(reads <= allowed(elapsed, 1000), `${reads} bundle reads in ${elapsed} ms`);
  });

  it('JWKS: at most one fetch per cooldown, with a key set and with an endpoint that fails', async () => {
    const serving = await jsonServer(() => fx.keys.jwks());
    try {
      const elapsed = await burst(jwksResolver(serving.url, { cooldownSeconds: 1 }), unknownKey);
      assert.ok(serving.requests() <= allowed(elapsed, 1000), `${serving.requests()} fetches in ${elapsed} ms`);
    } finally {
      await serving.close();
    }
    // An endpoint that never delivered a key set: every token is answered as an outage, and still no fetch storm.
    const failing = await jsonServer(() => ({ keys: 'not a list' }));
    try {
      const elapsed = await burst(jwksResolver(failing.url, { cooldownSeconds: 1 }), (err) => err instanceof KeySourceUnavailableError);
      assert.ok(failing.requests() >= 1);
      assert.ok(failing.requests() <= allowed(elapsed, 1000), `${failing.requests()} fetches in ${elapsed} ms`);
    } finally {
      await failing.close();
    }
  });
});
