// REGISTRY_AUTH=htpasswd with a bcrypt (`htpasswd -B`) file: skopeo and podman log in and
// push; anonymous access and a wrong password are refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, authFile, podman, skopeo, type Tool } from './harness/clients.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { testPassword } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['htpasswd', 'skopeo', 'podman'], { needsRoot: true });

describe('htpasswd auth', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;
  const password = testPassword('alice');

  before(async () => {
    ws = Workspace.create('htpasswd');
    fixture = await buildFixtureLayout(ws.path('oci'));
    const htpasswdFile = ws.path('htpasswd');
    await ws.ok('htpasswd', ['-B', '-c', '-i', htpasswdFile, 'alice'], { input: `${password}\n` });
    assert.match(readFileSync(htpasswdFile, 'utf8'), /^alice:\$2y\$/, 'htpasswd -B writes a bcrypt hash');
    registry = await startRegistry(ws, { auth: { kind: 'htpasswd', path: htpasswdFile, realm: 'dockyard-e2e' } });
    sk = skopeo(ws);
  });
  after(() => ws?.dispose());

  it('refuses anonymous access with a Basic challenge', async () => {
    const response = await fetch(`${registry.url}/v2/`);
    await response.body?.cancel();
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="dockyard-e2e"/);
    await sk.fails(['copy', '--dest-tls-verify=false', fixture.ref('tiny'), `docker://${registry.host}/team/tiny:anon`], ACCESS_REFUSED);
  });

  it('refuses a wrong password at login', async () => {
    const file = authFile(ws, 'wrong');
    await sk.fails(['login', '--authfile', file, '--tls-verify=false', '-u', 'alice', '--password-stdin', registry.host], ACCESS_REFUSED, {
      input: 'not-the-password\n',
    });
  });

  it('skopeo logs in, pushes and reads back with the stored credentials', async () => {
    const file = authFile(ws, 'skopeo');
    await sk.ok(['login', '--authfile', file, '--tls-verify=false', '-u', 'alice', '--password-stdin', registry.host], {
      input: `${password}\n`,
    });
    const target = `docker://${registry.host}/team/tiny:v1`;
    await sk.ok(['copy', '--authfile', file, '--dest-tls-verify=false', fixture.ref('tiny'), target]);
    const raw = await sk.ok(['inspect', '--raw', '--authfile', file, '--tls-verify=false', target]);
    assert.equal(sha256Digest(raw.stdout), fixture.tiny.manifest.digest);
  });

  it('podman logs in, pushes and pulls back', async () => {
    const file = authFile(ws, 'podman');
    const pm = podman(ws);
    await pm.ok(['login', '--authfile', file, '--tls-verify=false', '-u', 'alice', '--password-stdin', registry.host], {
      input: `${password}\n`,
    });
    const id = (await pm.ok(['pull', '--quiet', fixture.ref('tiny')])).stdout.trim();
    const target = `${registry.host}/team/podman:v1`;
    await pm.ok(['push', '--authfile', file, '--tls-verify=false', id, `docker://${target}`]);
    await pm.ok(['rmi', '--all', '--force']);
    await pm.ok(['pull', '--authfile', file, '--tls-verify=false', target]);
    const pulledId = (await pm.ok(['image', 'inspect', '--format', '{{.Id}}', target])).stdout.trim();
    assert.equal(`sha256:${pulledId}`, fixture.tiny.config.digest);
  });
});
