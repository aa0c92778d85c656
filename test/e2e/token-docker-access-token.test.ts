// docker login with a personal access token through a real dockerd: the token is the
// password, docker gets no refresh token (so it keeps sending the token itself), pushes and
// pulls with exactly the owner's grants, and is refused at once after `tokens revoke NAME`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, skopeo } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { addUser, grant, startTokenStack, testPassword, type TokenStack } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['/usr/sbin/dockerd', 'docker', 'skopeo'], { needsRoot: true });

describe('docker login with a personal access token', { skip: gate.skip }, () => {
  let ws: Workspace;
  let stack: TokenStack;
  let docker: Dockerd;
  let secret: string;
  const password = testPassword('alice');
  const image = (repository = 'team/pat'): string => `${stack.registry.host}/${repository}:v1`;
  const self = (args: string[]) => stack.auth.cli([...args, '--auth', stack.auth.url, '--username', 'alice', '--password-stdin', '--json'], `${password}\n`);

  before(async () => {
    ws = Workspace.create('token-docker-pat');
    const fixture = await buildFixtureLayout(ws.path('oci'));
    const archive = ws.path('tiny.tar');
    await skopeo(ws).ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
    [stack, docker] = await Promise.all([startTokenStack(ws), startDockerd(ws)]);
    await addUser(stack.auth, 'alice', password);
    await grant(stack.auth, 'user:alice', 'team/*', 'pull,push');
    secret = (JSON.parse((await self(['tokens', 'create', 'laptop', '--expires', '1d'])).stdout) as { secret: string }).secret;
    await docker.ok(['load', '-i', archive]);
    await docker.ok(['tag', 'tiny:latest', image()]);
    await docker.ok(['tag', 'tiny:latest', image('other/pat')]);
  });
  after(() => ws?.dispose());

  it('logs in with the token, keeps no identity token, and pushes and pulls with the owner’s grants', async () => {
    stack.recorder.clear();
    await docker.ok(['login', '-u', 'alice', '--password-stdin', stack.registry.host], { input: `${secret}\n` });
    const login = stack.recorder.requests.find((r) => r.method === 'GET' && r.fields.offline_token?.[0] === 'true');
    assert.equal(login?.status, 200);
    const config = JSON.parse(readFileSync(join(docker.configDir, 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> };
    const entry = config.auths[stack.registry.host];
    assert.equal(entry.identitytoken, undefined, 'no refresh token for a personal access token');
    assert.equal(Buffer.from(entry.auth ?? '', 'base64').toString('utf8'), `alice:${secret}`);

    await docker.ok(['push', image()]);
    await docker.fails(['push', image('other/pat')], ACCESS_REFUSED);
    await docker.ok(['rmi', image()]);
    await docker.ok(['pull', image()]);
  });

  it('is refused at once after the owner revokes it', async () => {
    await self(['tokens', 'revoke', 'laptop']);
    await docker.ok(['rmi', image()]);
    stack.recorder.clear();
    await docker.fails(['pull', image()], ACCESS_REFUSED);
    assert.ok(stack.recorder.requests.some((r) => r.status === 401), 'the token endpoint refused the revoked token');
    await docker.fails(['login', '-u', 'alice', '--password-stdin', stack.registry.host], ACCESS_REFUSED, { input: `${secret}\n` });
  });
});
