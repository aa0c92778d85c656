// Token auth with docker: `docker login` against the registry stores an identity token (the
// auth service's refresh token) and no password; push and pull then use POST /token with
// grant_type=refresh_token; disabling the user refuses the very next pull.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, skopeo } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { addUser, grant, startTokenStack, testPassword, type TokenStack } from './harness/token-stack.js';
import type { TokenRequest } from './harness/token-recorder.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['/usr/sbin/dockerd', 'docker', 'skopeo'], { needsRoot: true });

/** Actions a recorded scope asks for on `repository`, e.g. ['push','pull']; [] when absent. */
function actionsFor(requests: readonly TokenRequest[], repository: string): string[] {
  const prefix = `repository:${repository}:`;
  return [...new Set(requests.flatMap((r) => r.scopes.filter((s) => s.startsWith(prefix)).flatMap((s) => s.slice(prefix.length).split(','))))].sort();
}

function describeRequests(requests: readonly TokenRequest[]): string {
  return JSON.stringify(requests, null, 2);
}

describe('docker login with token auth', { skip: gate.skip }, () => {
  let ws: Workspace;
  let stack: TokenStack;
  let docker: Dockerd;
  const password = testPassword('alice');
  const image = (): string => `${stack.registry.host}/team/docker:v1`;

  before(async () => {
    ws = Workspace.create('token-docker');
    const fixture = await buildFixtureLayout(ws.path('oci'));
    const archive = ws.path('tiny.tar');
    await skopeo(ws).ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
    [stack, docker] = await Promise.all([startTokenStack(ws), startDockerd(ws)]);
    await addUser(stack.auth, 'alice', password);
    await grant(stack.auth, 'user:alice', 'team/*', 'pull,push');
    await docker.ok(['load', '-i', archive]);
    await docker.ok(['tag', 'tiny:latest', image()]);
  });
  after(() => ws?.dispose());

  it('stores an identity token and no password in config.json', async () => {
    stack.recorder.clear();
    await docker.ok(['login', '-u', 'alice', '--password-stdin', stack.registry.host], { input: `${password}\n` });

    const login = stack.recorder.requests.find((r) => r.method === 'GET' && r.fields.offline_token?.[0] === 'true');
    assert.ok(login, `docker login asked for no offline token:\n${describeRequests(stack.recorder.requests)}`);
    assert.equal(login.authScheme, 'Basic');
    assert.deepEqual(login.fields.client_id, ['docker']);
    assert.deepEqual(login.fields.account, ['alice']);
    assert.equal(login.status, 200);

    const raw = readFileSync(join(docker.configDir, 'config.json'), 'utf8');
    assert.ok(!raw.includes(password), 'config.json must not contain the password');
    const config = JSON.parse(raw) as { auths?: Record<string, { auth?: string; identitytoken?: string }> };
    const entry = config.auths?.[stack.registry.host];
    assert.ok(entry, `no auths entry for ${stack.registry.host} in ${raw}`);
    assert.equal(typeof entry.identitytoken, 'string');
    assert.ok(entry.identitytoken!.length > 0, 'identitytoken must not be empty');
    const decoded = Buffer.from(entry.auth ?? '', 'base64').toString('utf8');
    assert.equal(decoded, 'alice:', 'the auth field keeps the user name only, never the password');
  });

  it('pushes with the refresh token (POST /token, no Authorization header)', async () => {
    stack.recorder.clear();
    await docker.ok(['push', image()]);
    const requests = stack.recorder.requests;
    assert.ok(requests.length > 0, 'docker push asked the token endpoint nothing');
    for (const request of requests) {
      assert.equal(request.method, 'POST', describeRequests(requests));
      assert.deepEqual(request.fields.grant_type, ['refresh_token']);
      assert.deepEqual(request.fields.client_id, ['docker']);
      assert.equal(request.authScheme, undefined, 'a refresh-token request carries no Authorization header');
      assert.equal(request.status, 200);
    }
    assert.deepEqual(actionsFor(requests, 'team/docker'), ['pull', 'push']);
  });

  it('pulls back with the refresh token after removing the image locally', async () => {
    await docker.ok(['rmi', image(), 'tiny:latest']);
    stack.recorder.clear();
    await docker.ok(['pull', image()]);
    assert.ok(stack.recorder.requests.length > 0);
    assert.ok(
      stack.recorder.requests.every((r) => r.method === 'POST' && r.fields.grant_type?.[0] === 'refresh_token' && r.status === 200),
      describeRequests(stack.recorder.requests),
    );
  });

  it('refuses the next pull once the user is disabled', async () => {
    await docker.ok(['rmi', image()]);
    await stack.auth.cli(['users', 'disable', 'alice']);
    stack.recorder.clear();
    await docker.fails(['pull', image()], ACCESS_REFUSED);
    assert.ok(
      stack.recorder.requests.some((r) => r.method === 'POST' && r.status >= 400),
      `the refresh token should have been refused:\n${describeRequests(stack.recorder.requests)}`,
    );
  });
});
