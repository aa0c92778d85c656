// REGISTRY_AUTH_HTPASSWD_PATH without REGISTRY_AUTH=htpasswd (what a `registry:2` user
// brings along): the path alone selects htpasswd, so skopeo's anonymous push is refused and
// its push with the password works. Before, this started an open registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, authFile, skopeo, type Tool } from './harness/clients.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { testPassword } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['htpasswd', 'skopeo']);

describe('htpasswd settings without REGISTRY_AUTH', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;
  const password = testPassword('carol');

  before(async () => {
    ws = Workspace.create('htpasswd-implied');
    fixture = await buildFixtureLayout(ws.path('oci'));
    const htpasswdFile = ws.path('htpasswd');
    await ws.ok('htpasswd', ['-B', '-c', '-i', htpasswdFile, 'carol'], { input: `${password}\n` });
    registry = await startRegistry(ws, { auth: { kind: 'htpasswd', path: htpasswdFile }, implicitAuth: true });
    sk = skopeo(ws);
  });
  after(() => ws?.dispose());

  it('refuses an anonymous skopeo push', async () => {
    await sk.fails(['copy', '--authfile', authFile(ws, 'anonymous'), '--dest-tls-verify=false', fixture.ref('tiny'), `docker://${registry.host}/team/tiny:anon`], ACCESS_REFUSED);
    const response = await fetch(`${registry.url}/v2/`);
    await response.body?.cancel();
    assert.equal(response.status, 401);
  });

  it('accepts the push with the password from the htpasswd file', async () => {
    await sk.ok(['copy', '--dest-creds', `carol:${password}`, '--dest-tls-verify=false', fixture.ref('tiny'), `docker://${registry.host}/team/tiny:v1`]);
  });
});
