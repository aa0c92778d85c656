import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChallengeError } from '../../../services/registry/auth/controller.js';
import { TokenAccessController } from '../../../services/registry/auth/token.js';
import { certificateBundleResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { buildAttacks, ISSUER, PULL_A, SERVICE, type AttackWorld } from './attacks.js';

const REALM = 'http://127.0.0.1:5001/token';
const world: AttackWorld = await buildAttacks();

/** Asserts a 401 challenge with the given error and the required scope in it. */
async function assertChallenge(promise: Promise<unknown>, error: string, scope: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ChallengeError, `expected ChallengeError, got ${String(err)}`);
    assert.equal(err.status, 401);
    assert.equal(err.headers['WWW-Authenticate'], `Bearer realm="${REALM}",service="${SERVICE}",scope="${scope}",error="${error}"`);
    return true;
  });
}

describe('TokenAccessController against hostile tokens', () => {
  let controller: TokenAccessController;
  before(async () => {
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(world.bundlePath) });
    controller = new TokenAccessController({ realm: REALM, service: SERVICE, verifier });
  });
  after(() => world.cleanup());

  it('grants the genuine token what it holds', async () => {
    const grant = await controller.authorize({ authorization: `Bearer ${world.validToken}` }, PULL_A);
    assert.deepEqual(grant, { subject: 'mallory', access: PULL_A });
  });

  for (const attack of world.invalid) {
    it(`answers invalid_token: ${attack.name}`, async () => {
      await assertChallenge(controller.authorize({ authorization: `Bearer ${attack.token}` }, PULL_A), 'invalid_token', 'repository:team/a:pull');
    });
  }

  for (const attack of world.scope) {
    it(`answers insufficient_scope: ${attack.name}`, async () => {
      const scope = attack.required.map((r) => `${r.type}:${r.name}:${r.actions.join(',')}`).join(' ');
      await assertChallenge(controller.authorize({ authorization: `Bearer ${attack.token}` }, attack.required), 'insufficient_scope', scope);
    });
  }
});
