// `podman search` is the one containers/image client that reads /v2/_catalog: it asks the
// token server for `registry:catalog:*` and filters the listing by the search term. With
// the catalog per caller (issue 10.8), each identity finds exactly what it may pull.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { authFile, podman, skopeo, type Tool } from './harness/clients.js';
import { addUser, grant, startTokenStack, testPassword, type TokenStack } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo', 'podman'], { needsRoot: true });

describe('podman search lists the catalog each identity may pull', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let stack: TokenStack;
  let pm: Tool;
  const alice = testPassword('alice');
  const bob = testPassword('bob');

  before(async () => {
    ws = Workspace.create('token-catalog-search');
    fixture = await buildFixtureLayout(ws.path('oci'));
    stack = await startTokenStack(ws);
    pm = podman(ws);
    await addUser(stack.auth, 'alice', alice);
    await addUser(stack.auth, 'bob', bob);
    await grant(stack.auth, 'user:alice', '**', 'pull,push');
    await grant(stack.auth, 'user:bob', 'team/*', 'pull');
    await grant(stack.auth, 'anonymous', 'base/**', 'pull');
    const sk = skopeo(ws);
    for (const repository of ['team/tiny', 'team/deep/tiny', 'base/tiny', 'private/tiny']) {
      await sk.ok(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${alice}`, fixture.ref('tiny'), `docker://${stack.registry.host}/${repository}:v1`]);
    }
  });
  after(() => ws?.dispose());

  /** An auth file logged in as `user` (this podman has no `search --creds`); empty for anonymous. */
  async function loggedIn(user?: string, password?: string): Promise<string> {
    const file = authFile(ws, user ?? 'anonymous');
    if (user) await pm.ok(['login', '--tls-verify=false', '--authfile', file, '-u', user, '--password-stdin', stack.registry.host], { input: `${password}\n` });
    return file;
  }

  async function search(auth: string): Promise<string[]> {
    const result = await pm.ok(['search', '--tls-verify=false', '--authfile', auth, '--format', '{{.Name}}', `${stack.registry.host}/tiny`]);
    return result.stdout.split('\n').filter((line) => line !== '').map((line) => line.slice(stack.registry.host.length + 1)).sort();
  }

  it('a user with every grant finds every repository', async () => {
    assert.deepEqual(await search(await loggedIn('alice', alice)), ['base/tiny', 'private/tiny', 'team/deep/tiny', 'team/tiny']);
  });

  it('a user with team/* finds team/tiny only (one level, no other namespace)', async () => {
    assert.deepEqual(await search(await loggedIn('bob', bob)), ['base/tiny', 'team/tiny']);
  });

  it('anonymous finds what the anonymous grant allows', async () => {
    assert.deepEqual(await search(await loggedIn()), ['base/tiny']);
    assert.ok(stack.recorder.requests.some((r) => r.fields.scope?.includes('registry:catalog:*') && r.authScheme === undefined), 'podman asked for the catalog scope anonymously');
  });
});
