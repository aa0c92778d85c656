/**
 * The client half of docs/walkthrough.md, shared by the token and htpasswd walkthrough
 * tests: the certificate made by `npm run admin -- tls self-signed`, a cert dir holding it
 * as ca.crt, then login, push, pull and digest checks with skopeo, podman and docker. The
 * services run inside a network namespace (harness/netns.ts), so every client, docker
 * included, verifies the certificate: each one is first shown refusing the registry
 * without the CA (no --tls-verify=false anywhere).
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { authFile, podman, skopeo } from './harness/clients.js';
import type { Dockerd } from './harness/dockerd.js';
import type { DockerTrust } from './harness/netns.js';
import { REPO_ROOT } from './harness/services.js';
import type { Workspace } from './harness/workspace.js';

/** What skopeo, podman and docker print when they do not trust the server's certificate. */
export const UNTRUSTED = /x509: certificate signed by unknown authority/;

/** The walkthrough's certificate and the client-side trust for it. */
export interface WalkthroughTls {
  certificate: string;
  key: string;
  /** `--cert-dir` for skopeo/podman: a directory holding the certificate as ca.crt. */
  certDir: string;
}

/**
 * `npm run admin -- tls self-signed reg.example.com --ip 127.0.0.1 --ip ADDRESS --out DIR`,
 * as a child process; ADDRESS is the registry's address in the namespace (198.18.0.2 in the
 * walkthrough, a per-run one here).
 */
export async function makeCertificate(ws: Workspace, address: string): Promise<WalkthroughTls> {
  const out = ws.path('certs');
  const args = ['tls', 'self-signed', 'reg.example.com', '--ip', '127.0.0.1', '--ip', address, '--out', out];
  const result = await ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', ...args], { cwd: REPO_ROOT });
  const certificate = ws.path('certs', 'reg.example.com.crt');
  const key = ws.path('certs', 'reg.example.com.key');
  assert.ok(result.stdout.includes(`wrote ${certificate}`), result.stdout);
  assert.ok(result.stdout.includes('/etc/docker/certs.d/reg.example.com:5000/ca.crt'), result.stdout);
  // The walkthrough's client step: the certificate becomes the cert dir's ca.crt.
  const certDir = ws.mkdir('client-certs');
  copyFileSync(certificate, ws.path('client-certs', 'ca.crt'));
  return { certificate, key, certDir };
}

/**
 * `npm run admin -- config check` with the environment a service gets: exit 0 and
 * "configuration OK". The services already listen on their ports here, which the check
 * rightly reports as in use, so it gets port 0 instead (the port check has its own test,
 * test/unit/config/preflight.test.ts).
 */
export async function checkConfiguration(ws: Workspace, env: Record<string, string>): Promise<void> {
  const anyPort = { REGISTRY_HTTP_ADDR: '127.0.0.1:0', AUTH_HTTP_ADDR: '127.0.0.1:0', WEB_HTTP_ADDR: '127.0.0.1:0' };
  const result = await ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', 'config', 'check'], { cwd: REPO_ROOT, env: { ...env, ...anyPort } });
  assert.match(result.stdout, /^configuration OK: environment only/, result.stdout);
}

/** A GET over HTTPS trusting only `caPath`: status and headers. */
export function httpsGet(url: string, caPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caPath), headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The fixture image as an OCI layout (skopeo/podman source) and a docker-archive (for `docker load`). */
export async function buildImages(ws: Workspace): Promise<{ fixture: FixtureLayout; archive: string }> {
  const fixture = await buildFixtureLayout(ws.path('oci'));
  const archive = ws.path('tiny.tar');
  await skopeo(ws).ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
  return { fixture, archive };
}

/** One registry the clients talk to, and the account they use. */
export interface WalkthroughTarget {
  ws: Workspace;
  /** `ADDRESS:5000`, the registry inside the namespace. */
  host: string;
  tls: WalkthroughTls;
  fixture: FixtureLayout;
  user: string;
  password: string;
}

/** skopeo: refused without the CA; with --cert-dir: login, copy (push), inspect (pull) and the digest. */
export async function skopeoRoundTrip(t: WalkthroughTarget): Promise<void> {
  const sk = skopeo(t.ws);
  const file = authFile(t.ws, 'walkthrough-skopeo');
  const target = `docker://${t.host}/team/tiny:v1`;
  await sk.fails(['login', '--authfile', file, '-u', t.user, '--password-stdin', t.host], UNTRUSTED, { input: `${t.password}\n` });
  await sk.ok(['login', '--authfile', file, '--cert-dir', t.tls.certDir, '-u', t.user, '--password-stdin', t.host], { input: `${t.password}\n` });
  await sk.ok(['copy', '--authfile', file, '--dest-cert-dir', t.tls.certDir, t.fixture.ref('tiny'), target]);
  const raw = await sk.ok(['inspect', '--raw', '--authfile', file, '--cert-dir', t.tls.certDir, target]);
  assert.equal(sha256Digest(raw.stdout), t.fixture.tiny.manifest.digest);
  const pulled = t.ws.path('skopeo-pulled');
  await sk.ok(['copy', '--authfile', file, '--src-cert-dir', t.tls.certDir, target, `oci:${pulled}:tiny`]);
  const index = JSON.parse(readFileSync(`${pulled}/index.json`, 'utf8')) as { manifests: Array<{ digest: string }> };
  assert.equal(index.manifests[0]?.digest, t.fixture.tiny.manifest.digest);
}

/** podman: refused without the CA; login, push and a fresh pull through --cert-dir; the pulled image id is the config digest. */
export async function podmanRoundTrip(t: WalkthroughTarget): Promise<void> {
  const file = authFile(t.ws, 'walkthrough-podman');
  const pm = podman(t.ws);
  await pm.fails(['login', '--authfile', file, '-u', t.user, '--password-stdin', t.host], UNTRUSTED, { input: `${t.password}\n` });
  await pm.ok(['login', '--authfile', file, '--cert-dir', t.tls.certDir, '-u', t.user, '--password-stdin', t.host], { input: `${t.password}\n` });
  const id = (await pm.ok(['pull', '--quiet', t.fixture.ref('tiny')])).stdout.trim();
  const image = `${t.host}/team/podman:v1`;
  await pm.ok(['tag', id, image]);
  await pm.ok(['push', '--authfile', file, '--cert-dir', t.tls.certDir, image]);
  const fresh = podman(t.ws, 'pull');
  await fresh.ok(['pull', '--authfile', file, '--cert-dir', t.tls.certDir, image]);
  const pulledId = (await fresh.ok(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
  assert.equal(`sha256:${pulledId}`, t.fixture.tiny.config.digest);
}

/**
 * docker: load and tag; login refused while dockerd lacks the CA; with
 * /etc/docker/certs.d/HOST:PORT/ca.crt login and push; without it again push and pull are
 * refused; with it the pull brings the same image id back.
 */
export async function dockerRoundTrip(t: WalkthroughTarget, docker: Dockerd, archive: string, trust: DockerTrust): Promise<void> {
  const image = `${t.host}/team/docker:v1`;
  const login = ['login', '-u', t.user, '--password-stdin', t.host];
  await docker.ok(['load', '-i', archive]);
  await docker.ok(['tag', 'tiny:latest', image]);
  trust.remove();
  await docker.fails(login, UNTRUSTED, { input: `${t.password}\n` });
  trust.install();
  await docker.ok(login, { input: `${t.password}\n` });
  const pushed = await docker.ok(['push', image]);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  assert.ok(digest, `docker push printed no digest:\n${pushed.stdout}`);
  trust.remove();
  await docker.fails(['push', image], UNTRUSTED);
  await docker.ok(['rmi', image, 'tiny:latest']);
  await docker.fails(['pull', image], UNTRUSTED);
  trust.install();
  const pulled = await docker.ok(['pull', image]);
  assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
  const id = (await docker.ok(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
  assert.equal(id, t.fixture.tiny.config.digest);
}
