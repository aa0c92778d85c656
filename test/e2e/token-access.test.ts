// Token auth grants as real clients see them: a user with push grants pushes, a user outside
// the grant is denied push (but may pull what he is granted, and nothing else), a wrong
// password is refused, and anonymous pull works only where an `anonymous` grant allows it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, skopeo, type Tool } from './harness/clients.js';
import { addUser, grant, startTokenStack, testPassword, type TokenStack } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo']);

describe('token auth grants (skopeo)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let stack: TokenStack;
  let sk: Tool;
  const alice = testPassword('alice');
  const bob = testPassword('bob');
  const ref = (repository: string): string => `docker://${stack.registry.host}/${repository}`;

  before(async () => {
    ws = Workspace.create('token-access');
    fixture = await buildFixtureLayout(ws.path('oci'));
    stack = await startTokenStack(ws);
    sk = skopeo(ws);
    await addUser(stack.auth, 'alice', alice);
    await addUser(stack.auth, 'bob', bob);
    await grant(stack.auth, 'user:alice', 'team/*', 'pull,push');
    await grant(stack.auth, 'user:alice', 'base/*', 'pull,push');
    await grant(stack.auth, 'user:alice', 'private/*', 'pull,push');
    await grant(stack.auth, 'user:bob', 'team/*', 'pull');
    await grant(stack.auth, 'anonymous', 'base/*', 'pull');
  });
  after(() => ws?.dispose());

  it('challenges an anonymous /v2/ request with the realm and service', async () => {
    const response = await fetch(`${stack.registry.url}/v2/`);
    await response.body?.cancel();
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`realm="${stack.recorder.url}/token"`), challenge);
    assert.ok(challenge.includes(`service="${stack.auth.service}"`), challenge);
  });

  it('lets a user with a push grant push', async () => {
    for (const repository of ['team/tiny:v1', 'base/tiny:v1', 'private/tiny:v1']) {
      await sk.ok(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${alice}`, fixture.ref('tiny'), ref(repository)]);
    }
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', '--creds', `alice:${alice}`, ref('team/tiny:v1')]);
    assert.equal(sha256Digest(raw.stdout), fixture.tiny.manifest.digest);
  });

  it('refuses a wrong password', async () => {
    stack.recorder.clear();
    await sk.fails(['inspect', '--raw', '--tls-verify=false', '--creds', 'alice:not-her-password', ref('team/tiny:v1')], ACCESS_REFUSED);
    assert.ok(stack.recorder.requests.some((r) => r.fields.account?.[0] === 'alice' && r.status === 401), 'the token endpoint answers 401');
  });

  it('denies push to a user outside the push grant, who may still pull', async () => {
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', '--creds', `bob:${bob}`, ref('team/tiny:v1')]);
    assert.equal(sha256Digest(raw.stdout), fixture.tiny.manifest.digest);
    stack.recorder.clear();
    await sk.fails(['copy', '--dest-tls-verify=false', '--dest-creds', `bob:${bob}`, fixture.ref('tiny'), ref('team/bob:v1')], ACCESS_REFUSED);
    const asked = stack.recorder.requests.filter((r) => r.fields.account?.[0] === 'bob');
    assert.ok(asked.length > 0, 'bob asked for a token');
    assert.ok(asked.every((r) => r.status === 200), 'denied actions are dropped from the token, never an error');
    await sk.fails(['inspect', '--raw', '--tls-verify=false', '--creds', `bob:${bob}`, ref('private/tiny:v1')], ACCESS_REFUSED);
  });

  it('lets anonymous pull only where an anonymous grant allows it', async () => {
    stack.recorder.clear();
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', '--no-creds', ref('base/tiny:v1')]);
    assert.equal(sha256Digest(raw.stdout), fixture.tiny.manifest.digest);
    assert.ok(stack.recorder.requests.length > 0, 'anonymous pull still asks for a token');
    assert.ok(stack.recorder.requests.every((r) => r.authScheme === undefined && r.fields.account === undefined));

    await sk.fails(['inspect', '--raw', '--tls-verify=false', '--no-creds', ref('team/tiny:v1')], ACCESS_REFUSED);
    await sk.fails(['copy', '--dest-tls-verify=false', '--dest-no-creds', fixture.ref('tiny'), ref('base/anonymous:v1')], ACCESS_REFUSED);
  });
});
