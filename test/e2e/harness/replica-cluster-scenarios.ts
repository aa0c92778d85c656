// The multi-replica end-to-end scenarios (issue 11, item 5) on one ReplicaBackend: two
// registries and two auth services behind round-robin proxies (harness/replica-cluster.ts),
// on PostgreSQL and the backend's object store. docker login, push and pull through the
// proxy; skopeo copy; a chunked upload whose PATCHes alternate replicas; a key rotation on
// one auth replica accepted everywhere; a registry SIGKILLed in the middle of concurrent
// pushes whose clients retry, after which every acknowledged push verifies; and at the end
// every blob the metadata knows is in the store with its size. Run per backend by the
// `*-replica-cluster.test.ts` files.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { loadRegistryConfig } from '../../../shared/config/index.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import { storageFor } from '../../../services/registry/storage/drivers/for-config.js';
import { blobDataPath } from '../../../services/registry/storage/paths.js';
import { buildFixtureLayout, type FixtureLayout } from '../../fixtures/image.js';
import { postgresUnavailable } from '../../support/postgres.js';
import { skopeo, type Tool } from './clients.js';
import { startDockerd, type Dockerd } from './dockerd.js';
import { readLayoutImage } from './oci.js';
import type { ReplicaBackend, ReplicaStore } from './replica-backends.js';
import { ISSUER, SERVICE, startReplicaCluster, type ReplicaCluster } from './replica-cluster.js';
import { getWithRetries, pushWithRetries, sha256, type PushedImage } from './retrying-push.js';
import { registryTarget } from './services.js';
import { requireTools } from './tools.js';
import { Workspace } from './workspace.js';

const MiB = 1024 * 1024;
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A well-formed token naming a kid nobody publishes: a registry refetches its JWKS for it. */
function unknownKidToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ access: [{ type: 'repository', name: 'team/tiny', actions: ['pull'] }] })
    .setProtectedHeader({ alg: 'ES256', kid: `UNKNOWN:${randomBytes(6).toString('hex')}` })
    .setIssuer(ISSUER).setAudience(SERVICE).setSubject('alice').setExpirationTime(now + 60)
    .sign(attacker.privateKey);
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export async function describeReplicaCluster(backend: ReplicaBackend): Promise<void> {
  const gate = requireTools(['/usr/sbin/dockerd', 'docker', 'skopeo'], { needsRoot: true });
  const suite = `two registries and two auth services behind round-robin proxies on PostgreSQL and ${backend.name}`;
  if (!(await backend.gate(suite, postgresUnavailable))) return;
  const skip = gate.skip || (registryTarget() !== 'dockyard' && 'Dockyard only');
  describe(suite, { skip }, () => {
    let ws: Workspace;
    let store: ReplicaStore;
    let cluster: ReplicaCluster;
    let docker: Dockerd;
    let sk: Tool;
    let fixture: FixtureLayout;
    const password = `alice-${randomBytes(6).toString('hex')}`;
    const image = (tag: string): string => `${cluster.registryProxy.host}/team/tiny:${tag}`;

    /** A token for `scope` from whichever auth replica the proxy picks. */
    async function token(scope: string): Promise<string> {
      const params = new URLSearchParams({ service: SERVICE, scope });
      const response = await fetch(`${cluster.authProxy.url}/token?${params}`, { headers: { authorization: basic('alice', password) } });
      const body = (await response.json()) as { token?: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      return body.token!;
    }

    before(async () => {
      ws = Workspace.create('replica-cluster');
      store = await backend.createStore();
      ws.defer('close the store client', () => store.close());
      fixture = await buildFixtureLayout(ws.path('oci'));
      sk = skopeo(ws);
      const archive = ws.path('tiny.tar');
      await sk.ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
      [cluster, docker] = await Promise.all([startReplicaCluster(ws, store), startDockerd(ws)]);
      await docker.ok(['load', '-i', archive]);
      const admin = basic('admin', cluster.adminPassword);
      const json = { authorization: admin, 'content-type': 'application/json' };
      const user = await fetch(`${cluster.authProxy.url}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'alice', password }) });
      assert.equal(user.status, 201, await user.text());
      const grant = await fetch(`${cluster.authProxy.url}/api/v1/grants`, { method: 'POST', headers: json, body: JSON.stringify({ subject: 'user:alice', pattern: 'team/*', actions: 'pull,push' }) });
      assert.equal(grant.status, 201, await grant.text());
    });
    after(() => ws?.dispose());

    it('docker login, push and pull through the proxy; token requests and registry requests reach both replicas', async () => {
      await docker.ok(['login', '-u', 'alice', '--password-stdin', cluster.registryProxy.host], { input: `${password}\n` });
      await docker.ok(['tag', 'tiny:latest', image('v1')]);
      const pushed = await docker.ok(['push', image('v1')]);
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
      assert.ok(digest, pushed.stdout);
      await docker.ok(['rmi', image('v1'), 'tiny:latest']);
      const pulled = await docker.ok(['pull', image('v1')]);
      assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
      const refreshes = cluster.authProxy.routed.filter((r) => r.method === 'POST' && r.path.startsWith('/token'));
      assert.ok(refreshes.length >= 2 && refreshes.every((r) => r.status === 200), 'docker redeemed its refresh token through the proxy');
      assert.deepEqual(new Set(cluster.registryProxy.routed.map((r) => r.upstream)), new Set([0, 1]));
      // The identity token docker stored (a refresh token issued by one replica) redeems on each.
      const config = JSON.parse(readFileSync(join(docker.configDir, 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string }> };
      const identity = config.auths[cluster.registryProxy.host]?.identitytoken;
      assert.ok(identity, 'docker stored an identity token');
      for (const auth of cluster.auths) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identity, client_id: 'docker', service: SERVICE, scope: 'repository:team/tiny:pull' });
        const redeemed = await fetch(`${auth.url}/token`, { method: 'POST', body: form });
        assert.equal(redeemed.status, 200, `${auth.url}: ${await redeemed.text()}`);
      }
    });

    it('skopeo copies an image in and out through the proxy', async () => {
      const creds = `alice:${password}`;
      await sk.ok(['copy', '--dest-tls-verify=false', '--dest-creds', creds, fixture.ref('tiny'), `docker://${image('skopeo')}`]);
      const out = ws.path('skopeo-out');
      await sk.ok(['copy', '--src-tls-verify=false', '--src-creds', creds, `docker://${image('skopeo')}`, `oci:${out}:v1`]);
      assert.equal((await readLayoutImage(out, 'v1')).digest, fixture.tiny.manifest.digest);
    });

    it('a chunked upload whose PATCHes alternate replicas completes with the right digest', async () => {
      const auth = { authorization: `Bearer ${await token('repository:team/chunked:pull,push')}` };
      const base = cluster.registryProxy.url;
      const content = randomBytes(11 * MiB + 7);
      let location = (await fetch(`${base}/v2/team/chunked/blobs/uploads/`, { method: 'POST', headers: auth })).headers.get('location')!;
      const first = cluster.registryProxy.routed.length;
      const step = 2 * MiB;
      for (let offset = 0; offset < content.length; offset += step) {
        const chunk = content.subarray(offset, offset + step);
        const patch = await fetch(new URL(location, base), { method: 'PATCH', body: chunk, headers: { ...auth, 'content-range': `${offset}-${offset + chunk.length - 1}` } });
        assert.equal(patch.status, 202, await patch.text());
        location = patch.headers.get('location')!;
      }
      const patches = cluster.registryProxy.routed.slice(first).filter((r) => r.method === 'PATCH');
      assert.deepEqual(new Set(patches.map((r) => r.upstream)), new Set([0, 1]), 'PATCHes landed on both replicas');
      const put = new URL(location, base);
      put.searchParams.set('digest', sha256(content));
      const done = await fetch(put, { method: 'PUT', headers: auth });
      assert.equal(done.status, 201, await done.text());
      for (const registry of cluster.registries) {
        const pulled = Buffer.from(await (await fetch(`${registry.url}/v2/team/chunked/blobs/${sha256(content)}`, { headers: auth })).arrayBuffer());
        assert.equal(sha256(pulled), sha256(content), `complete on ${registry.url}`);
      }
    });

    it('a key rotation on one auth replica: both registries accept its tokens at once though they just fetched the JWKS, and both auth replicas sign with it', async () => {
      const oldKid = decodeProtectedHeader(await token('repository:team/tiny:pull')).kid;
      // Make each registry fetch the JWKS now (a token naming an unknown kid): for the next
      // 10 s it may not fetch again, which is when a rotation used to be refused (401).
      for (const registry of cluster.registries) {
        const refused = await fetch(`${registry.url}/v2/team/tiny/manifests/v1`, { headers: { authorization: `Bearer ${await unknownKidToken()}` } });
        assert.equal(refused.status, 401, `${registry.url}: ${await refused.text()}`);
      }
      const rotated = await fetch(`${cluster.auths[0]!.url}/api/v1/keys/rotate`, {
        method: 'POST',
        headers: { authorization: basic('admin', cluster.adminPassword), 'content-type': 'application/json' },
      });
      assert.equal(rotated.status, 200, await rotated.clone().text());
      const { kid: newKid } = (await rotated.json()) as { kid: string };
      assert.notEqual(newKid, oldKid);
      // Right after the command returned, the rotating replica signs with the new key and
      // both registries accept it with the key set they fetched before.
      const params = new URLSearchParams({ service: SERVICE, scope: 'repository:team/tiny:pull' });
      const direct = await fetch(`${cluster.auths[0]!.url}/token?${params}`, { headers: { authorization: basic('alice', password) } });
      const immediate = String(((await direct.json()) as { token?: string }).token);
      assert.equal(decodeProtectedHeader(immediate).kid, newKid);
      for (const registry of cluster.registries) {
        const manifest = await fetch(`${registry.url}/v2/team/tiny/manifests/v1`, {
          headers: { authorization: `Bearer ${immediate}`, accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        assert.equal(manifest.status, 200, `${registry.url}: ${await manifest.text()}`);
      }
      // Each auth replica looks at the key table at most once a second on the token path.
      const kids: unknown[] = [];
      for (let i = 0; i < 100 && !(kids.length >= 2 && kids.slice(-2).every((k) => k === newKid)); i++) {
        await sleep(100);
        kids.push(decodeProtectedHeader(await token(`repository:team/tiny:pull`)).kid);
      }
      assert.deepEqual(kids.slice(-2), [newKid, newKid], 'consecutive tokens from both auth replicas carry the new kid');
      const fresh = await token('repository:team/tiny:pull');
      for (const registry of cluster.registries) {
        const manifest = await fetch(`${registry.url}/v2/team/tiny/manifests/v1`, {
          headers: { authorization: `Bearer ${fresh}`, accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        assert.equal(manifest.status, 200, `${registry.url}: ${await manifest.text()}`);
      }
      await docker.ok(['tag', image('v1'), image('rotated')]);
      await docker.ok(['push', image('rotated')]);
    });

    it('a registry SIGKILLed in the middle of concurrent pushes: clients retry, every acknowledged push verifies', async () => {
      const base = cluster.registryProxy.url;
      const tokens = new Map<string, Promise<string>>();
      const tokenFor = (repository: string) => () => {
        if (!tokens.has(repository)) tokens.set(repository, token(`repository:${repository}:pull,push`));
        return tokens.get(repository)!;
      };
      const victim = cluster.registries[1]!;
      const before = cluster.registryProxy.routed.length;
      const pushes = Array.from({ length: 6 }, (_, i) =>
        pushWithRetries(base, tokenFor(`team/kill${i}`), `team/kill${i}`, 'v1', [randomBytes(6 * MiB + i), randomBytes(3 * MiB + i)]).then(
          (image): PushedImage | Error => image,
          (err: Error) => err,
        ),
      );
      // Sync point, not timing: the victim has served some of these pushes' PATCHes.
      for (let i = 0; i < 600; i++) {
        const served = cluster.registryProxy.routed.slice(before).filter((r) => r.upstream === 1 && r.method === 'PATCH' && r.status === 202).length;
        if (served >= 3) break;
        await sleep(20);
      }
      process.kill(-victim.process.pid, 'SIGKILL');
      const results = await Promise.all(pushes);
      const acknowledged = results.filter((r): r is PushedImage => !(r instanceof Error));
      assert.equal(acknowledged.length, results.length, results.filter((r) => r instanceof Error).map(String).join('\n'));
      const lost = cluster.registryProxy.routed.slice(before).filter((r) => r.upstream === 1 && r.status === 'failed');
      assert.ok(lost.length > 0, 'requests routed to the killed replica failed, and were retried');
      for (const pushed of acknowledged) {
        const authorization = `Bearer ${await tokenFor(pushed.repository)()}`;
        const manifest = await getWithRetries(base, `/v2/${pushed.repository}/manifests/${pushed.tag}`, authorization, 'application/vnd.oci.image.manifest.v1+json');
        assert.equal(sha256(manifest), pushed.manifestDigest);
        for (const [digest, content] of pushed.blobs) {
          const blob = await getWithRetries(base, `/v2/${pushed.repository}/blobs/${digest}`, authorization);
          assert.equal(blob.length, content.length);
          assert.equal(sha256(blob), digest);
        }
      }
    });

    it('the metadata and the store agree: every blob and manifest the database knows is stored with its size and digest', async () => {
      const { rows } = await cluster.registryDb.query<{ digest: string; size: string }>(
        'select distinct digest, size from blob_links union select distinct digest, size from manifests',
      );
      assert.ok(rows.length > 10, `the database knows ${rows.length} digests`);
      const driver = storageFor(loadRegistryConfig({ env: { ...cluster.registryEnv, REGISTRY_AUTH: 'none' } }));
      for (const row of rows) {
        const path = blobDataPath(parseDigest(row.digest));
        const info = await driver.stat(path);
        assert.equal(info.size, Number(row.size), `${row.digest} has the size the database records`);
        const hash = createHash('sha256');
        for await (const chunk of await driver.reader(path, 0)) hash.update(chunk as Buffer);
        assert.equal(`sha256:${hash.digest('hex')}`, row.digest);
      }
      const stray = cluster.registryProxy.routed.filter((r) => r.status !== 'failed' && Number(r.status) >= 500 && r.upstream === 0);
      assert.deepEqual(stray, [], 'the surviving replica never answered 5xx');
    });
  });
}
