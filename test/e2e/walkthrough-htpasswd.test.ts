// docs/walkthrough.md part B, command by command: `htpasswd -Bbn alice PASSWORD >
// auth/htpasswd`, a certificate from `npm run admin -- tls self-signed` naming the
// registry's address, the registry alone (`npm run registry` = services/registry/main.ts)
// with REGISTRY_AUTH=htpasswd and the TLS environment inside a network namespace of the
// test's own, then skopeo, podman and docker, each refused without the CA and logging in,
// pushing and pulling with it (not on 127.0.0.0/8, so dockerd verifies the certificate).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, authFile, skopeo } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { createNetworkNamespace, dockerTrust, requireNetworkNamespaces, type DockerTrust, type NetworkNamespace } from './harness/netns.js';
import { httpsProbe, startProcess } from './harness/process.js';
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

const tools = requireTools(['htpasswd', 'skopeo', 'podman', '/usr/sbin/dockerd', 'docker'], { needsRoot: true });
const gate = tools.skip ? tools : requireNetworkNamespaces();
/** The walkthrough's port: fixed, as in the text, since nothing else listens in the namespace. */
const PORT = 5000;
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

/** `ip netns exec NS npm run registry` with the walkthrough's environment. */
async function startRegistry(ws: Workspace, ns: NetworkNamespace, env: Record<string, string>, caPath: string): Promise<void> {
  await startProcess(ws, {
    name: 'registry',
    ...ns.exec(process.execPath, ['--import', 'tsx', 'services/registry/main.ts']),
    cwd: REPO_ROOT,
    env: { ...env, REGISTRY_HTTP_ADDR: `${ns.address}:${PORT}` },
    ready: httpsProbe(`https://${ns.address}:${PORT}/v2/`, caPath),
  });
}

describe('walkthrough: htpasswd auth with npm run registry over HTTPS', { skip: gate.skip }, () => {
  let ws: Workspace;
  let ns: NetworkNamespace;
  let trust: DockerTrust;
  let env: Record<string, string>;
  let docker: Dockerd;
  let fixture: FixtureLayout;
  let archive: string;
  let target: WalkthroughTarget;

  before(async () => {
    ws = Workspace.create('walkthrough-htpasswd');
    ns = createNetworkNamespace(ws);
    const tls = await makeCertificate(ws, ns.address);
    trust = dockerTrust(ws, `${ns.address}:${PORT}`, tls.certificate);
    const entry = await ws.ok('htpasswd', ['-Bbn', 'alice', ALICE_PASSWORD]);
    assert.match(entry.stdout, /^alice:\$2y\$/, 'htpasswd -B writes a bcrypt hash');
    ws.mkdir('auth');
    const htpasswdPath = ws.path('auth', 'htpasswd');
    writeFileSync(htpasswdPath, entry.stdout);
    env = registryEnv(ws, tls, htpasswdPath);
    [, docker, { fixture, archive }] = await Promise.all([startRegistry(ws, ns, env, tls.certificate), startDockerd(ws), buildImages(ws)]);
    target = { ws, host: `${ns.address}:${PORT}`, tls, fixture, user: 'alice', password: ALICE_PASSWORD };
  });
  after(() => ws?.dispose());

  it('passes npm run admin -- config check with the same environment', async () => {
    await checkConfiguration(ws, env);
  });

  it('challenges with Basic and the configured realm over HTTPS', async () => {
    const challenge = await httpsGet(`https://${ns.address}:${PORT}/v2/`, target.tls.certificate);
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

  it('podman is refused without the CA; logs in, pushes and pulls back through --cert-dir', async () => {
    await podmanRoundTrip(target);
  });

  it('docker is refused without /etc/docker/certs.d/HOST:PORT/ca.crt; with it logs in, pushes and pulls back', async () => {
    await dockerRoundTrip(target, docker, archive, trust);
  });
});
