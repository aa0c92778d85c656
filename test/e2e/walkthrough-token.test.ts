// docs/walkthrough.md part A, command by command: a certificate from `npm run admin -- tls
// self-signed`, both services over HTTPS from the combined launcher (`npm start` =
// services/main.ts, first admin from DOCKYARD_ADMIN_PASSWORD), a user and a grant from the
// admin CLI, then skopeo and podman (certificate verification on, through --cert-dir) and
// docker (dockerd skips verification for 127.0.0.0/8) log in, push and pull.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FixtureLayout } from '../fixtures/image.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { freePort } from './harness/ports.js';
import { httpsProbe, ProcessStartError, startProcess, type ManagedProcess } from './harness/process.js';
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

const gate = requireTools(['skopeo', 'podman', '/usr/sbin/dockerd', 'docker'], { needsRoot: true });
const ADMIN_PASSWORD = 'walkthrough-admin-password';
const ALICE_PASSWORD = 'walkthrough-alice-password';

interface Launched {
  process: ManagedProcess;
  registryPort: number;
  authPort: number;
  /** What every admin CLI call needs to reach the same data. */
  env: Record<string, string>;
}

/** `npm start` with the walkthrough's environment, on free ports (retried when one was taken meanwhile). */
async function startCombined(ws: Workspace, tls: WalkthroughTls): Promise<Launched> {
  const env = { DOCKYARD_DATA_DIR: ws.mkdir('data') };
  for (let attempt = 1; ; attempt++) {
    const [registryPort, authPort] = [await freePort(), await freePort()];
    try {
      const launched = await startProcess(ws, {
        name: `dockyard-${attempt}`,
        command: process.execPath,
        args: ['--import', 'tsx', 'services/main.ts'],
        cwd: REPO_ROOT,
        env: {
          ...env,
          DOCKYARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
          REGISTRY_HTTP_ADDR: `127.0.0.1:${registryPort}`,
          REGISTRY_HTTP_TLS_CERTIFICATE: tls.certificate,
          REGISTRY_HTTP_TLS_KEY: tls.key,
          AUTH_HTTP_ADDR: `127.0.0.1:${authPort}`,
          AUTH_HTTP_TLS_CERTIFICATE: tls.certificate,
          AUTH_HTTP_TLS_KEY: tls.key,
        },
        ready: httpsProbe(`https://127.0.0.1:${registryPort}/v2/`, tls.certificate),
      });
      return { process: launched, registryPort, authPort, env };
    } catch (err) {
      if (attempt >= 3 || !(err instanceof ProcessStartError) || !/EADDRINUSE/.test(err.log)) throw err;
    }
  }
}

describe('walkthrough: token auth with npm start over HTTPS', { skip: gate.skip }, () => {
  let ws: Workspace;
  let tls: WalkthroughTls;
  let launched: Launched;
  let docker: Dockerd;
  let fixture: FixtureLayout;
  let archive: string;
  let target: WalkthroughTarget;
  const admin = (args: string[], input?: string) =>
    ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', ...args], { cwd: REPO_ROOT, env: launched.env, input });

  before(async () => {
    ws = Workspace.create('walkthrough-token');
    tls = await makeCertificate(ws);
    [launched, docker, { fixture, archive }] = await Promise.all([startCombined(ws, tls), startDockerd(ws), buildImages(ws)]);
    await admin(['users', 'add', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await admin(['grants', 'add', 'user:alice', 'team/*', 'pull,push']);
    target = { ws, host: `127.0.0.1:${launched.registryPort}`, tls, fixture, user: 'alice', password: ALICE_PASSWORD };
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

  it('announces both services on https and sends clients to an https realm', async () => {
    const log = readFileSync(launched.process.logPath, 'utf8');
    assert.match(log, new RegExp(`Dockyard is running: registry https://127\\.0\\.0\\.1:${launched.registryPort} \\(auth: token\\), auth service https://127\\.0\\.0\\.1:${launched.authPort}`));
    const challenge = await httpsGet(`https://127.0.0.1:${launched.registryPort}/v2/`, tls.certificate);
    assert.equal(challenge.status, 401);
    assert.match(String(challenge.headers['www-authenticate']), new RegExp(`^Bearer realm="https://127\\.0\\.0\\.1:${launched.authPort}/token",service="dockyard"`));
  });

  it('created the first admin with DOCKYARD_ADMIN_PASSWORD and printed no generated password', async () => {
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });
    const tokenUrl = `https://127.0.0.1:${launched.authPort}/token?service=dockyard`;
    assert.equal((await httpsGet(tokenUrl, tls.certificate, basic(ADMIN_PASSWORD))).status, 200);
    assert.equal((await httpsGet(tokenUrl, tls.certificate, basic('not-the-password'))).status, 401);
    const log = readFileSync(launched.process.logPath, 'utf8');
    assert.doesNotMatch(log, /with password:/);
    assert.ok(!log.includes(ADMIN_PASSWORD), 'the admin password must never be logged');
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
