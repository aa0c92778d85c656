import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { certificateBundleResolver } from '../../../shared/crypto/token-keys.js';
import { TokenInvalidError, TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { buildAttacks, ISSUER, PULL_A, SERVICE, type AttackWorld } from './attacks.js';

// Cases are built before the suite is declared so each one is its own test.
const world: AttackWorld = await buildAttacks();

describe('TokenVerifier against hostile tokens', () => {
  let verifier: TokenVerifier;
  before(async () => {
    verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(world.bundlePath) });
  });
  after(() => world.cleanup());

  it('accepts the genuine token (the setup is not refusing everything)', async () => {
    const claims = await verifier.verify(world.validToken);
    assert.equal(claims.sub, 'mallory');
    assert.deepEqual(claims.access, PULL_A);
  });

  for (const attack of world.invalid) {
    it(`refuses: ${attack.name} (${attack.code})`, async () => {
      await assert.rejects(verifier.verify(attack.token), (err: unknown) => {
        assert.ok(err instanceof TokenInvalidError, `expected TokenInvalidError, got ${String(err)}`);
        assert.equal(err.code, attack.code, err.message);
        return true;
      });
    });
  }
});
