// docs/walkthrough.md part A, command by command: a certificate from `npm run admin -- tls
// self-signed` naming the registry's address, both services over HTTPS from the combined
// launcher (`npm start` = services/main.ts, first admin from DOCKYARD_ADMIN_PASSWORD) inside
// a network namespace of the test's own, a user and a grant from the admin CLI, then
// skopeo, podman and docker, each refused without the CA and logging in, pushing and
// pulling with it. The registry is not on 127.0.0.0/8, so dockerd verifies the certificate
// too, for the registry and for the token realm.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FixtureLayout } from '../fixtures/image.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { createNetworkNamespace, dockerTrust, requireNetworkNamespaces, type DockerTrust, type NetworkNamespace } from './harness/netns.js';
import { httpsProbe, startProcess, type ManagedProcess } from './harness/process.js';
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

const tools = requireTools(['skopeo', 'podman', '/usr/sbin/dockerd', 'docker'], { needsRoot: true });
const gate = tools.skip ? tools : requireNetworkNamespaces();
const ADMIN_PASSWORD = 'walkthrough-admin-password';
const ALICE_PASSWORD = 'walkthrough-alice-password';

interface Launched {
  process: ManagedProcess;
  /** What every admin CLI call needs to reach the same data. */
  env: Record<string, string>;
}

/** The walkthrough's ports: fixed, as in the text, since nothing else listens in the namespace. */
const REGISTRY_PORT = 5000;
const AUTH_PORT = 5001;

/** `ip netns exec NS npm start` with the walkthrough's environment. */
async function startCombined(ws: Workspace, ns: NetworkNamespace, tls: WalkthroughTls): Promise<Launched> {
  const env = { DOCKYARD_DATA_DIR: ws.mkdir('data') };
  const launched = await startProcess(ws, {
    name: 'dockyard',
    ...ns.exec(process.execPath, ['--import', 'tsx', 'services/main.ts']),
    cwd: REPO_ROOT,
    env: {
      ...env,
      DOCKYARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      REGISTRY_HTTP_ADDR: `${ns.address}:${REGISTRY_PORT}`,
      REGISTRY_HTTP_TLS_CERTIFICATE: tls.certificate,
      REGISTRY_HTTP_TLS_KEY: tls.key,
      AUTH_HTTP_ADDR: `${ns.address}:${AUTH_PORT}`,
      AUTH_HTTP_TLS_CERTIFICATE: tls.certificate,
      AUTH_HTTP_TLS_KEY: tls.key,
    },
    ready: httpsProbe(`https://${ns.address}:${REGISTRY_PORT}/v2/`, tls.certificate),
  });
  return { process: launched, env };
}

describe('walkthrough: token auth with npm start over HTTPS', { skip: gate.skip }, () => {
  let ws: Workspace;
  let ns: NetworkNamespace;
  let tls: WalkthroughTls;
  let trust: DockerTrust;
  let launched: Launched;
  let docker: Dockerd;
  let fixture: FixtureLayout;
  let archive: string;
  let target: WalkthroughTarget;
  const admin = (args: string[], input?: string) =>
    ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', ...args], { cwd: REPO_ROOT, env: launched.env, input });

  before(async () => {
    ws = Workspace.create('walkthrough-token');
    ns = createNetworkNamespace(ws);
    tls = await makeCertificate(ws, ns.address);
    trust = dockerTrust(ws, `${ns.address}:${REGISTRY_PORT}`, tls.certificate);
    [launched, docker, { fixture, archive }] = await Promise.all([startCombined(ws, ns, tls), startDockerd(ws), buildImages(ws)]);
    await admin(['users', 'add', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await admin(['grants', 'add', 'user:alice', 'team/*', 'pull,push']);
    target = { ws, host: `${ns.address}:${REGISTRY_PORT}`, tls, fixture, user: 'alice', password: ALICE_PASSWORD };
  });
  after(() => ws?.dispose());

  it('passes npm run admin -- config check with the same TLS environment', async () => {
    await checkConfiguration(ws, {
      ...launched.env,
      REGISTRY_HTTP_TLS_CERTIFICATE: tls.certificate,
      REGISTRY_HTTP_TLS_KEY: tls.key,
      AUTH_HTTP_TLS_CERTIFICATE: tls.certificate,
      AUTH_HTTP_TLS_KEY: tls.key,
    });
  });

  it('announces both services on https at the namespace address and sends clients to an https realm there', async () => {
    const log = readFileSync(launched.process.logPath, 'utf8');
    const at = ns.address.replaceAll('.', '\\.');
    assert.match(log, new RegExp(`Dockyard is running: registry https://${at}:${REGISTRY_PORT} \\(auth: token\\), auth service https://${at}:${AUTH_PORT}`));
    const challenge = await httpsGet(`https://${ns.address}:${REGISTRY_PORT}/v2/`, tls.certificate);
    assert.equal(challenge.status, 401);
    assert.match(String(challenge.headers['www-authenticate']), new RegExp(`^Bearer realm="https://${at}:${AUTH_PORT}/token",service="dockyard"`));
  });

  it('created the first admin with DOCKYARD_ADMIN_PASSWORD and printed no generated password', async () => {
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
    const tokenUrl = `https://${ns.address}:${AUTH_PORT}/token?service=dockyard`;
    assert.equal((await httpsGet(tokenUrl, tls.certificate, basic(ADMIN_PASSWORD))).status, 200);
    assert.equal((await httpsGet(tokenUrl, tls.certificate, basic('not-the-password'))).status, 401);
    const log = readFileSync(launched.process.logPath, 'utf8');
    assert.doesNotMatch(log, /with password:/);
    assert.ok(!log.includes(ADMIN_PASSWORD), 'the admin password must never be logged');
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
