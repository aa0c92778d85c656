import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { certificateBundleResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier, type KeyResolver } from '../../../shared/crypto/token-verifier.js';
import { countingResolver, keyFixture, type KeyFixture } from './helpers.js';

const ISSUER = 'dockyard-auth';
const SERVICE = 'dockyard';
const EXP = 2_000_000_000; // fixed times: the verifier's clock is injected

describe('TokenVerifier cache', () => {
  let fx: KeyFixture;
  let bundle: KeyResolver;
  before(async () => {
    fx = await keyFixture('cache');
    bundle = await certificateBundleResolver(fx.bundlePath);
  });
  after(() => fx.cleanup());

  async function token(subject: string, exp = EXP): Promise<string> {
    const key = fx.keys.current();
    return new SignJWT({ access: [{ type: 'repository', name: 'a', actions: ['pull'] }] })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(ISSUER).setAudience(SERVICE).setSubject(subject).setIssuedAt(exp - 300).setExpirationTime(exp)
      .sign(key.privateKey);
  }

  it('answers a repeated token from the cache without a key lookup', async () => {
    const keys = countingResolver(bundle);
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys, now: () => (EXP - 100) * 1000 });
    const t = await token('alice');
    assert.equal((await verifier.verify(t)).sub, 'alice');
    assert.equal((await verifier.verify(t)).sub, 'alice');
    assert.equal(keys.calls, 1);
  });

  it('never serves a cached token past its exp: it is verified again, and refused beyond the leeway', async () => {
    let now = (EXP - 10) * 1000;
    const keys = countingResolver(bundle);
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys, now: () => now });
    const t = await token('bob');
    await verifier.verify(t);
    assert.equal(keys.calls, 1);
    now = (EXP + 1) * 1000; // past exp, inside the 60 s leeway
    assert.equal((await verifier.verify(t)).sub, 'bob');
    assert.equal(keys.calls, 2, 'an expired cache entry must not answer');
    now = (EXP + 61) * 1000;
    await assert.rejects(verifier.verify(t), { name: 'TokenInvalidError', code: 'TOKEN_EXPIRED' });
  });

  it('is bounded: the least recently used token is evicted', async () => {
    const keys = countingResolver(bundle);
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys, cacheSize: 2, now: () => (EXP - 100) * 1000 });
    const [a, b, c] = await Promise.all([token('a'), token('b'), token('c')]);
    await verifier.verify(a);
    await verifier.verify(b);
    await verifier.verify(a); // a is now the most recent
    await verifier.verify(c); // evicts b
    assert.equal(keys.calls, 3);
    await verifier.verify(a);
    assert.equal(keys.calls, 3, 'a stayed cached');
    await verifier.verify(b);
    assert.equal(keys.calls, 4, 'b was evicted');
  });

  it('hands out claims nobody can widen for the next request', async () => {
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: bundle, now: () => (EXP - 100) * 1000 });
    const t = await token('carol');
    const claims = await verifier.verify(t);
    assert.throws(() => claims.access.push({ type: 'repository', name: 'b', actions: ['push'] }), TypeError);
    assert.throws(() => claims.access[0]!.actions.push('push'), TypeError);
    assert.deepEqual((await verifier.verify(t)).access, [{ type: 'repository', name: 'a', actions: ['pull'] }]);
  });
});
