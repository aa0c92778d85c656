// docs/walkthrough.md part B, command by command: `htpasswd -Bbn alice PASSWORD >
// auth/htpasswd`, a certificate from `npm run admin -- tls self-signed`, the registry alone
// (`npm run registry` = services/registry/main.ts) with REGISTRY_AUTH=htpasswd and the TLS
// environment, then skopeo and podman (certificate verification on, through --cert-dir) and
// docker (dockerd skips verification for 127.0.0.0/8) log in, push and pull.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, authFile, skopeo } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { freePort } from './harness/ports.js';
import { httpsProbe, ProcessStartError, startProcess } from './harness/process.js';
import { REPO_ROOT } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';
import {
  buildImages,
  checkConfiguration,
  dockerRoundTrip,
  httpsGet,
  makeCertificate,
  podmanRoundTrip,
  skopeoRoundTrip,
  type WalkthroughTarget,
  type WalkthroughTls,
} from './walkthrough-clients.js';

const gate = requireTools(['htpasswd', 'skopeo', 'podman', '/usr/sbin/dockerd', 'docker'], { needsRoot: true });
const ALICE_PASSWORD = 'walkthrough-alice-password';

/** The walkthrough's environment for `npm run registry` (part B). */
function registryEnv(ws: Workspace, tls: WalkthroughTls, htpasswdPath: string): Record<string, string> {
  return {
    DOCKYARD_DATA_DIR: ws.path('data'),
    REGISTRY_HTTP_TLS_CERTIFICATE: tls.certificate,
    REGISTRY_HTTP_TLS_KEY: tls.key,
    REGISTRY_AUTH: 'htpasswd',
    REGISTRY_AUTH_HTPASSWD_PATH: htpasswdPath,
    REGISTRY_AUTH_HTPASSWD_REALM: 'Registry Realm',
  };
}

/** `npm run registry` with the walkthrough's environment on a free port; returns the port. */
async function startRegistry(ws: Workspace, env: Record<string, string>, caPath: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await startProcess(ws, {
        name: `registry-${attempt}`,
        command: process.execPath,
        args: ['--import', 'tsx', 'services/registry/main.ts'],
        cwd: REPO_ROOT,
        env: { ...env, REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` },
        ready: httpsProbe(`https://127.0.0.1:${port}/v2/`, caPath),
      });
      return port;
    } catch (err) {
      if (attempt >= 3 || !(err instanceof ProcessStartError) || !/EADDRINUSE/.test(err.log)) throw err;
    }
  }
}

describe('walkthrough: htpasswd auth with npm run registry over HTTPS', { skip: gate.skip }, () => {
  let ws: Workspace;
  let port: number;
  let env: Record<string, string>;
  let docker: Dockerd;
  let fixture: FixtureLayout;
  let archive: string;
  let target: WalkthroughTarget;

  before(async () => {
    ws = Workspace.create('walkthrough-htpasswd');
    const tls = await makeCertificate(ws);
    const entry = await ws.ok('htpasswd', ['-Bbn', 'alice', ALICE_PASSWORD]);
    assert.match(entry.stdout, /^alice:\$2y\$/, 'htpasswd -B writes a bcrypt hash');
    ws.mkdir('auth');
    const htpasswdPath = ws.path('auth', 'htpasswd');
    writeFileSync(htpasswdPath, entry.stdout);
    env = registryEnv(ws, tls, htpasswdPath);
    [port, docker, { fixture, archive }] = await Promise.all([startRegistry(ws, env, tls.certificate), startDockerd(ws), buildImages(ws)]);
    target = { ws, host: `127.0.0.1:${port}`, tls, fixture, user: 'alice', password: ALICE_PASSWORD };
  });
  after(() => ws?.dispose());

  it('passes npm run admin -- config check with the same environment', async () => {
    await checkConfiguration(ws, env);
  });

  it('challenges with Basic and the configured realm over HTTPS', async () => {
    const challenge = await httpsGet(`https://127.0.0.1:${port}/v2/`, target.tls.certificate);
    assert.equal(challenge.status, 401);
    assert.equal(challenge.headers['www-authenticate'], 'Basic realm="Registry Realm"');
  });

  it('refuses a wrong password at login', async () => {
    await skopeo(ws).fails(['login', '--authfile', authFile(ws, 'wrong'), '--cert-dir', target.tls.certDir, '-u', 'alice', '--password-stdin', target.host], ACCESS_REFUSED, {
      input: 'not-the-password\n',
    });
  });

  it('skopeo trusts the certificate only through --cert-dir; logs in, pushes and pulls back', async () => {
    await skopeoRoundTrip(target);
  });

  it('podman logs in, pushes and pulls back through --cert-dir', async () => {
    await podmanRoundTrip(target);
  });

  it('docker logs in, pushes and pulls back (dockerd skips verification on 127.0.0.0/8)', async () => {
    await dockerRoundTrip(target, docker, archive);
  });
});
