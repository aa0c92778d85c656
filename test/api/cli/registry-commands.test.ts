// The registry commands of the `dockyard` CLI against a RUNNING token-auth registry and
// its auth service (both real, in this process), through the CLI's in-process entry
// with the admin's credentials in DOCKYARD_USERNAME / DOCKYARD_PASSWORD, as an operator
// would run them: repos list, tags list, tags delete (only the tag), manifests delete,
// inspect (an index with two platforms), and tokens revoke for one's own refresh tokens.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { runCli, type CliIo } from '../../../services/auth/cli.js';
import { ADMIN_PASSWORD, basic, createUser, postToken, SERVICE } from '../auth/harness.js';
import { startTokenStack, type TokenStack } from '../../security/services.js';

let stack: TokenStack;
let indexDigest: string;
let amdDigest: string;

const digestOf = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function adminToken(scope: string): Promise<string> {
  const url = new URL(`${stack.auth.url}/token`);
  url.searchParams.set('service', SERVICE);
  url.searchParams.set('scope', scope);
  const res = await fetch(url, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

async function pushBlob(name: string, bytes: Buffer | string, auth: string): Promise<{ digest: string; size: number }> {
  const digest = digestOf(bytes);
  const start = await fetch(`${stack.registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location')!, stack.registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { authorization: auth, 'content-type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  return { digest, size: Buffer.byteLength(bytes) };
}

async function pushManifest(name: string, reference: string, doc: unknown, type: string, auth: string): Promise<string> {
  const body = JSON.stringify(doc);
  const res = await fetch(`${stack.registry.url}/v2/${name}/manifests/${reference}`, { method: 'PUT', body, headers: { authorization: auth, 'content-type': type } });
  assert.equal(res.status, 201, await res.text());
  return digestOf(body);
}

/** Pushes team/app with an index of linux/amd64 and linux/arm64 images, tagged 1.0, latest and old. */
async function seed(): Promise<void> {
  const auth = `Bearer ${await adminToken('repository:team/app:pull,push')}`;
  const images: Array<{ digest: string; size: number; arch: string }> = [];
  for (const arch of ['amd64', 'arm64']) {
    const config = await pushBlob('team/app', JSON.stringify({ architecture: arch, os: 'linux', created: '2026-01-02T03:04:05Z', config: { Labels: { 'org.opencontainers.image.title': `app-${arch}` } }, rootfs: { type: 'layers', diff_ids: [] } }), auth);
    const layer = await pushBlob('team/app', Buffer.alloc(arch === 'amd64' ? 3000 : 5000, arch), auth);
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] };
    const digest = await pushManifest('team/app', digestOf(JSON.stringify(manifest)), manifest, 'application/vnd.oci.image.manifest.v1+json', auth);
    images.push({ digest, size: Buffer.byteLength(JSON.stringify(manifest)), arch });
  }
  amdDigest = images[0].digest;
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map((i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: i.digest, size: i.size, platform: { os: 'linux', architecture: i.arch } })),
  };
  for (const tag of ['1.0', 'latest', 'old']) indexDigest = await pushManifest('team/app', tag, index, 'application/vnd.oci.image.index.v1+json', auth);
  const other = `Bearer ${await adminToken('repository:team/other:pull,push')}`;
  const config = await pushBlob('team/other', '{}', other);
  await pushManifest('team/other', 'v1', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [] }, 'application/vnd.oci.image.manifest.v1+json', other);
}

before(async () => {
  stack = await startTokenStack();
  await seed();
});
after(async () => stack.close());

async function dockyard(args: string[], env: Record<string, string> = {}, input = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdin: async () => input, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await runCli(args, { DOCKYARD_REGISTRY: stack.registry.url, DOCKYARD_USERNAME: 'admin', DOCKYARD_PASSWORD: ADMIN_PASSWORD, ...env }, io);
  return { code, out, err };
}

async function json<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await dockyard([...args, '--json'], env);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

test('repos list and tags list read the running registry with a token for the admin', async () => {
  assert.deepEqual(await json(['repos', 'list']), ['team/app', 'team/other']);
  assert.deepEqual(await json(['tags', 'list', 'team/app']), ['1.0', 'latest', 'old']);
  const text = await dockyard(['tags', 'list', 'team/app']);
  assert.equal(text.out, '1.0\nlatest\nold\n');
});

test('inspect shows the platforms of an index, their layers with sizes and config labels', async () => {
  const image = await json<{ digest: string; images: Array<{ platform: string; labels: Record<string, string>; layers: Array<{ size: number }>; created: string }> }>(['inspect', 'team/app:1.0']);
  assert.equal(image.digest, indexDigest);
  assert.deepEqual(image.images.map((i) => i.platform), ['linux/amd64', 'linux/arm64']);
  assert.deepEqual(image.images.map((i) => i.layers.map((l) => l.size)), [[3000], [5000]]);
  assert.deepEqual(image.images[1].labels, { 'org.opencontainers.image.title': 'app-arm64' });
  assert.equal(image.images[0].created, '2026-01-02T03:04:05Z');
  const text = (await dockyard(['inspect', `team/app@${amdDigest}`])).out;
  assert.match(text, /platform {3}linux\/amd64/);
  assert.match(text, /org\.opencontainers\.image\.title=app-amd64/);
  assert.match(text, /2\.9 KiB/);
});

test('tags delete removes only that tag: the manifest and its other tags stay', async () => {
  assert.deepEqual(await json(['tags', 'delete', 'team/app:old']), { repository: 'team/app', tag: 'old', deleted: true });
  assert.deepEqual(await json(['tags', 'list', 'team/app']), ['1.0', 'latest']);
  const latest = await json<{ digest: string }>(['inspect', 'team/app:latest']);
  assert.equal(latest.digest, indexDigest, 'the manifest the deleted tag pointed at is still there');
  const again = await dockyard(['tags', 'delete', 'team/app:old']);
  assert.equal(again.code, 1);
  assert.match(again.err, /MANIFEST_UNKNOWN/);
});

test('manifests delete removes the manifest and every tag pointing at it', async () => {
  assert.deepEqual(await json(['manifests', 'delete', `team/app@${indexDigest}`]), { repository: 'team/app', digest: indexDigest, deleted: true });
  assert.deepEqual(await json(['tags', 'list', 'team/app']), []);
});

test('bad references are usage errors; wrong credentials and an unreachable registry fail with exit 1', async () => {
  for (const args of [['tags', 'delete', 'team/app'], ['manifests', 'delete', 'team/app:latest'], ['inspect', 'Team/App:1'], ['tags', 'list', 'UPPER']]) {
    const r = await dockyard(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^error: (expected|invalid)/);
  }
  const wrong = await dockyard(['repos', 'list'], { DOCKYARD_PASSWORD: 'not-the-password' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /token request .*UNAUTHORIZED/);
  const nobody = await dockyard(['repos', 'list'], { DOCKYARD_REGISTRY: 'http://127.0.0.1:1' });
  assert.equal(nobody.code, 1);
  assert.match(nobody.err, /cannot reach the registry at http:\/\/127\.0\.0\.1:1/);
});

test('tokens revoke: a user revokes their own refresh tokens, which then stop working', async () => {
  await createUser(stack.auth, 'alice', 'alice-password');
  const login = await fetch(`${stack.auth.url}/token?service=${SERVICE}&offline_token=true&client_id=docker`, { headers: { authorization: basic('alice', 'alice-password') } });
  const refresh = ((await login.json()) as { refresh_token: string }).refresh_token;
  assert.ok(refresh);
  const env = { DOCKYARD_AUTH: stack.auth.url, DOCKYARD_USERNAME: '', DOCKYARD_PASSWORD: '' };
  const r = await dockyard(['tokens', 'revoke', '--username', 'alice', '--password-stdin', '--json'], env, 'alice-password\n');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { user: 'alice', revoked: 1 });
  const redeemed = await postToken(stack.auth, { grant_type: 'refresh_token', refresh_token: refresh, client_id: 'docker', service: SERVICE });
  assert.equal(redeemed.status, 401);
  const wrong = await dockyard(['tokens', 'revoke', '--username', 'alice', '--password-stdin'], env, 'wrong-password\n');
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /invalid username or password/);
});
