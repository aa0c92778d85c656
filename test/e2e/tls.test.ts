// The registry over HTTPS (REGISTRY_HTTP_TLS_CERTIFICATE/_KEY) with a self-signed certificate:
// skopeo and podman verify it through a --cert-dir holding the CA, and refuse it without.
// (dockerd treats 127.0.0.0/8 as insecure; the walkthrough tests check docker's certificate
// verification against a registry inside a network namespace, see harness/netns.ts.)
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { podman, skopeo, type Tool } from './harness/clients.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['openssl', 'skopeo', 'podman'], { needsRoot: true });
const UNTRUSTED = /x509|certificate/i;

describe('registry over TLS', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;
  let certDir: string;

  before(async () => {
    ws = Workspace.create('tls');
    fixture = await buildFixtureLayout(ws.path('oci'));
    const certificate = ws.path('registry.crt');
    const key = ws.path('registry.key');
    await ws.ok('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', '/CN=registry.test', '-addext', 'subjectAltName=DNS:registry.test,IP:127.0.0.1',
      '-keyout', key, '-out', certificate,
    ]);
    certDir = ws.mkdir('certs');
    copyFileSync(certificate, ws.path('certs', 'ca.crt'));
    registry = await startRegistry(ws, { tls: { certificate, key, ca: certificate } });
    sk = skopeo(ws);
  });
  after(() => ws?.dispose());

  it('answers /v2/ over HTTPS with the configured certificate', async () => {
    const { status, peer } = await new Promise<{ status: number; peer: string }>((resolve, reject) => {
      const req = httpsGet(`${registry.url}/v2/`, { ca: readFileSync(ws.path('certs', 'ca.crt')) }, (res) => {
        res.resume();
        const socket = res.socket as TLSSocket;
        resolve({ status: res.statusCode ?? 0, peer: String(socket.getPeerCertificate().subject?.CN ?? '') });
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
    assert.equal(peer, 'registry.test');
  });

  it('skopeo pushes and reads back when it trusts the CA', async () => {
    const target = `docker://${registry.host}/team/tiny:v1`;
    await sk.ok(['copy', '--dest-cert-dir', certDir, fixture.ref('tiny'), target]);
    const raw = await sk.ok(['inspect', '--raw', '--cert-dir', certDir, target]);
    assert.equal(sha256Digest(raw.stdout), fixture.tiny.manifest.digest);
  });

  it('skopeo refuses the registry without the CA', async () => {
    await sk.fails(['inspect', '--raw', `docker://${registry.host}/team/tiny:v1`], UNTRUSTED);
  });

  it('podman pushes and pulls through --cert-dir', async () => {
    const pm = podman(ws);
    const id = (await pm.ok(['pull', '--quiet', fixture.ref('tiny')])).stdout.trim();
    const target = `${registry.host}/team/podman:v1`;
    await pm.ok(['push', '--cert-dir', certDir, id, `docker://${target}`]);
    const fresh = podman(ws, 'pull');
    await fresh.fails(['pull', target], UNTRUSTED);
    await fresh.ok(['pull', '--cert-dir', certDir, target]);
    const pulledId = (await fresh.ok(['image', 'inspect', '--format', '{{.Id}}', target])).stdout.trim();
    assert.equal(`sha256:${pulledId}`, fixture.tiny.config.digest);
  });
});
