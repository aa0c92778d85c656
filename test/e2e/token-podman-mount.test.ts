// podman with token auth pushing the same image to a second repository: containers/image
// remembers where the blobs already are and tries a cross-repo mount, asking the token
// endpoint for two scopes at once (push on the target, pull on the source).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { authFile, podman, type Tool } from './harness/clients.js';
import { addUser, grant, startTokenStack, testPassword, type TokenStack } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['podman'], { needsRoot: true });

/** The actions of `scope` if it names `repository`, else undefined. */
function actionsOf(scope: string, repository: string): string[] | undefined {
  const prefix = `repository:${repository}:`;
  return scope.startsWith(prefix) ? scope.slice(prefix.length).split(',').sort() : undefined;
}

describe('podman cross-repository push (token auth)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let stack: TokenStack;
  let pm: Tool;
  let file: string;
  let imageId: string;
  const password = testPassword('alice');

  before(async () => {
    ws = Workspace.create('token-podman');
    fixture = await buildFixtureLayout(ws.path('oci'));
    stack = await startTokenStack(ws);
    await addUser(stack.auth, 'alice', password);
    await grant(stack.auth, 'user:alice', 'team/*', 'pull,push');
    pm = podman(ws);
    file = authFile(ws, 'podman');
    imageId = (await pm.ok(['pull', '--quiet', fixture.ref('tiny')])).stdout.trim();
    await pm.ok(['login', '--authfile', file, '--tls-verify=false', '-u', 'alice', '--password-stdin', stack.registry.host], {
      input: `${password}\n`,
    });
  });
  after(() => ws?.dispose());

  it('pushes to a first repository', async () => {
    await pm.ok(['push', '--authfile', file, '--tls-verify=false', imageId, `docker://${stack.registry.host}/team/one:v1`]);
  });

  it('pushes the same image to a second repository, asking for both scopes in one token request', async () => {
    stack.recorder.clear();
    await pm.ok(['push', '--authfile', file, '--tls-verify=false', imageId, `docker://${stack.registry.host}/team/two:v1`]);
    const requests = stack.recorder.requests;
    const mountRequest = requests.find(
      (r) =>
        r.scopes.some((s) => actionsOf(s, 'team/two')?.includes('push')) &&
        r.scopes.some((s) => actionsOf(s, 'team/one')?.includes('pull')),
    );
    assert.ok(mountRequest, `no token request asked for team/two push and team/one pull together:\n${JSON.stringify(requests, null, 2)}`);
    assert.equal(mountRequest.status, 200);
    assert.equal(mountRequest.authScheme, 'Basic');
  });

  it('pulls the image from the second repository', async () => {
    const fresh = podman(ws, 'pull');
    const target = `${stack.registry.host}/team/two:v1`;
    await fresh.ok(['pull', '--authfile', file, '--tls-verify=false', target]);
    const id = (await fresh.ok(['image', 'inspect', '--format', '{{.Id}}', target])).stdout.trim();
    assert.equal(`sha256:${id}`, fixture.tiny.config.digest);
  });
});
