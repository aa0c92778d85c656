import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { ChallengeError } from '../../../services/registry/auth/controller.js';
import { createAccessController } from '../../../services/registry/auth/index.js';
import { NoneAccessController } from '../../../services/registry/auth/none.js';
import { TokenAccessController } from '../../../services/registry/auth/token.js';
import { DockyardError } from '../../../shared/http/errors.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import type { AccessRecord } from '../../../shared/grammar/scope.js';
import { certificateBundleResolver, jwksResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { jsonServer, keyFixture, type KeyFixture } from './helpers.js';

const REALM = 'https://auth.example/token';
const SERVICE = 'dockyard';
const ISSUER = 'dockyard-auth';
const PUSH_AB: AccessRecord[] = [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }];

/** The challenge a refusal carries; fails unless it is a 401 ChallengeError. */
async function challengeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ChallengeError, `expected ChallengeError, got ${String(err)}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'UNAUTHORIZED');
    return err.headers['WWW-Authenticate']!;
  }
  assert.fail('expected a challenge');
}

describe('TokenAccessController', () => {
  let fx: KeyFixture;
  let controller: TokenAccessController;
  let issuer: TokenIssuer;
  before(async () => {
    fx = await keyFixture('controller');
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    controller = new TokenAccessController({ realm: REALM, service: SERVICE, verifier });
    issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300 });
  });
  after(() => fx.cleanup());

  it('challenges a request without a token with realm, service and the required scope', async () => {
    assert.equal(
      await challengeOf(controller.authorize({}, PUSH_AB)),
      `Bearer realm="${REALM}",service="${SERVICE}",scope="repository:a/b:pull,push"`,
    );
  });

  it('lists several scopes space-separated, including registry:catalog:*, and none for /v2/', async () => {
    const required = [...PUSH_AB, { type: 'repository', name: 'c', actions: ['pull'] }, { type: 'registry', name: 'catalog', actions: ['*'] }];
    assert.equal(
      await challengeOf(controller.authorize({}, required)),
      `Bearer realm="${REALM}",service="${SERVICE}",scope="repository:a/b:pull,push repository:c:pull registry:catalog:*"`,
    );
    assert.equal(await challengeOf(controller.authorize({}, [])), `Bearer realm="${REALM}",service="${SERVICE}"`);
  });

  it('treats Basic credentials as no token', async () => {
    const header = await challengeOf(controller.authorize({ authorization: 'Basic YWxpY2U6c2VjcmV0' }, PUSH_AB));
    assert.doesNotMatch(header, /error=/);
  });

  it('grants a valid token its subject and the required access', async () => {
    const { token } = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PUSH_AB });
    const grant = await controller.authorize({ authorization: `Bearer ${token}` }, [{ type: 'repository', name: 'a/b', actions: ['pull'] }]);
    assert.deepEqual(grant, { subject: 'alice', access: [{ type: 'repository', name: 'a/b', actions: ['pull'] }] });
    assert.deepEqual(await controller.authorize({ authorization: `bearer ${token}` }, []), { subject: 'alice', access: [] });
  });

  it('answers a bad token with error="invalid_token" and a narrow one with error="insufficient_scope"', async () => {
    assert.equal(
      await challengeOf(controller.authorize({ authorization: 'Bearer not.a.token' }, PUSH_AB)),
      `Bearer realm="${REALM}",service="${SERVICE}",scope="repository:a/b:pull,push",error="invalid_token"`,
    );
    const { token } = await issuer.issue({ subject: 'alice', audience: SERVICE, access: [{ type: 'repository', name: 'a/b', actions: ['pull'] }] });
    assert.equal(
      await challengeOf(controller.authorize({ authorization: `Bearer ${token}` }, PUSH_AB)),
      `Bearer realm="${REALM}",service="${SERVICE}",scope="repository:a/b:pull,push",error="insufficient_scope"`,
    );
  });

  it('honours "*" in the granted actions', async () => {
    const { token } = await issuer.issue({ subject: 'admin', audience: SERVICE, access: [{ type: 'registry', name: 'catalog', actions: ['*'] }] });
    const grant = await controller.authorize({ authorization: `Bearer ${token}` }, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.equal(grant.subject, 'admin');
  });

  it('quotes the realm and refuses header-breaking configuration', async () => {
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    const quoted = new TokenAccessController({ realm: 'http://x/"token"', service: SERVICE, verifier });
    assert.match(await challengeOf(quoted.authorize({}, [])), /^Bearer realm="http:\/\/x\/\\"token\\"",/);
    assert.throws(() => new TokenAccessController({ realm: 'http://x/\r\nSet-Cookie: a=b', service: SERVICE, verifier }), /control characters/);
  });

  it('answers 503, not a challenge, when the JWKS cannot be fetched', async () => {
    const server = await jsonServer(() => ({}));
    const url = server.url;
    await server.close();
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: jwksResolver(url, { timeoutMs: 2000 }) });
    const offline = new TokenAccessController({ realm: REALM, service: SERVICE, verifier });
    const { token } = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PUSH_AB });
    await assert.rejects(offline.authorize({ authorization: `Bearer ${token}` }, PUSH_AB), (err: unknown) => {
      assert.ok(err instanceof DockyardError && !(err instanceof ChallengeError));
      assert.equal(err.code, 'UNAVAILABLE');
      assert.equal(err.status, 503);
      return true;
    });
  });
});

describe('createAccessController', () => {
  let fx: KeyFixture;
  before(async () => (fx = await keyFixture('factory')));
  after(() => fx.cleanup());

  it('builds the controller the configuration names', async () => {
    const logger = silentLogger();
    assert.ok((await createAccessController({ kind: 'none' }, logger)) instanceof NoneAccessController);
    const token = await createAccessController(
      { kind: 'token', realm: REALM, service: SERVICE, issuer: ISSUER, rootCertBundle: fx.bundlePath },
      logger,
    );
    assert.ok(token instanceof TokenAccessController);
    const { token: jwt } = await new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 60 }).issue({ subject: 'z', audience: SERVICE, access: PUSH_AB });
    assert.equal((await token.authorize({ authorization: `Bearer ${jwt}` }, PUSH_AB)).subject, 'z');
    await assert.rejects(
      createAccessController({ kind: 'token', realm: REALM, service: SERVICE, issuer: ISSUER, rootCertBundle: `${fx.bundlePath}.missing` }, logger),
      /cannot use token certificate bundle/,
    );
  });
});
