// TokenIssuer with reuseSeconds: an identical request (key, subject, audience, access)
// inside the window gets the same token with its remaining lifetime; anything that differs
// gets a freshly signed one, and the window is capped at a tenth of the token lifetime.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { keyFixture, type KeyFixture } from './helpers.js';

const ISSUER = 'dockyard-auth';
const SERVICE = 'dockyard';
const PULL_A = [{ type: 'repository', name: 'team/a', actions: ['pull'] }];
const PUSH_A = [{ type: 'repository', name: 'team/a', actions: ['pull', 'push'] }];

describe('TokenIssuer token reuse', () => {
  let fx: KeyFixture;
  before(async () => (fx = await keyFixture('reuse')));
  after(() => {
    mock.timers.reset();
    return fx.cleanup();
  });

  it('hands out the same token inside the window, with the remaining lifetime, and signs anew after it', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_800_000_000_000 });
    try {
      const issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300, reuseSeconds: 30 });
      const first = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
      assert.equal(first.expiresIn, 300);
      mock.timers.tick(10_000);
      const again = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
      assert.equal(again.token, first.token);
      assert.equal(again.expiresIn, 290, 'the remaining lifetime, not the full one');
      assert.equal(again.issuedAt, first.issuedAt);

      const wider = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PUSH_A });
      assert.notEqual(wider.token, first.token, 'different granted access is a different token');
      assert.deepEqual(decodeJwt(wider.token).access, PUSH_A);
      const other = await issuer.issue({ subject: 'bob', audience: SERVICE, access: PULL_A });
      assert.equal(decodeJwt(other.token).sub, 'bob');
      const elsewhere = await issuer.issue({ subject: 'alice', audience: 'other-registry', access: PULL_A });
      assert.equal(decodeJwt(elsewhere.token).aud, 'other-registry');

      mock.timers.tick(21_000);
      const later = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
      assert.notEqual(later.token, first.token, 'past the window a new token is signed');
      assert.equal(later.expiresIn, 300);
    } finally {
      mock.timers.reset();
    }
  });

  it('caps the window at a tenth of the lifetime, and reuses nothing by default', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_800_000_000_000 });
    try {
      const capped = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 60, reuseSeconds: 30 });
      const first = await capped.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
      mock.timers.tick(5_000);
      assert.equal((await capped.issue({ subject: 'alice', audience: SERVICE, access: PULL_A })).token, first.token);
      mock.timers.tick(1_000);
      assert.notEqual((await capped.issue({ subject: 'alice', audience: SERVICE, access: PULL_A })).token, first.token);

      const plain = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300 });
      const a = await plain.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
      const b = await plain.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
      assert.notEqual(a.token, b.token);
    } finally {
      mock.timers.reset();
    }
  });

  it('signs with a rotated key once the key check interval has passed, never with a reused old token', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_800_000_000_000 });
    try {
      const issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300, reuseSeconds: 30, keyCheckIntervalMs: 1000 });
      const before = await issuer.issue({ subject: 'carol', audience: SERVICE, access: PULL_A });
      const rotated = await (await KeyStore.open(join(fx.dir, 'keys'), { publishAheadSeconds: 0 })).rotate();
      mock.timers.tick(1_000);
      const after = await issuer.issue({ subject: 'carol', audience: SERVICE, access: PULL_A });
      assert.notEqual(after.token, before.token);
      assert.equal(decodeProtectedHeader(after.token).kid, rotated.kid);
    } finally {
      mock.timers.reset();
    }
  });
});
