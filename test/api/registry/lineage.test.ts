// The lineage API over real pushes: /api/v1/images/{bases,dependents,stale,tag-history},
// authorized like a pull and filtered to the repositories the caller may pull: with the
// harness's fake TableAccessController, and with real tokens and the TokenAccessController.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { TokenAccessController } from '../../../services/registry/auth/token.js';
import { certificateBundleResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import type { AccessRecord } from '../../../shared/grammar/scope.js';
import { keyFixture, type KeyFixture } from '../../unit/token/helpers.js';
import {
  TableAccessController,
  buildImage,
  buildImageOn,
  expectError,
  pushImage,
  startReplica,
  startTestRegistry,
  uploadBlob,
  type TestRegistry,
} from './harness.js';

type Images = Array<{ repository: string; digest: string; tags: string[]; generation?: number; via?: string }>;

describe('lineage API', () => {
  let registry: TestRegistry;
  let guarded: { url: string; close(): Promise<void> };
  const access = new TableAccessController({
    admin: '*',
    alice: [
      { type: 'repository', name: 'base/debian', actions: ['pull'] },
      { type: 'repository', name: 'team/api', actions: ['pull'] },
    ],
  });
  const base = buildImage({ seed: 'debian 12.0' });
  const api = buildImageOn(base, 'api');
  const secret = buildImageOn(base, 'secret');
  const fixed = buildImage({ seed: 'debian 12.1' });

  const get = (user: string | null, path: string, method = 'GET') =>
    fetch(`${guarded.url}/api/v1/images/${path}`, { method, headers: user ? { 'X-Test-User': user } : {} });
  async function json<T>(user: string, path: string): Promise<T> {
    const response = await get(user, path);
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return JSON.parse(text) as T;
  }
  const pairs = (images: Images) => images.map((i) => [i.repository, i.tags]);

  before(async () => {
    // Blobs and the first pushes go through an open registry; the API and the base move through the guarded one.
    registry = await startTestRegistry();
    guarded = await startReplica(registry, { access });
    await pushImage(registry.url, 'base/debian', '12', base);
    await pushImage(registry.url, 'team/api', 'latest', api);
    await pushImage(registry.url, 'team/secret', 'latest', secret);
  });
  after(async () => {
    await guarded.close();
    await registry.close();
  });

  it('lists bases and dependents of pushed images', async () => {
    const bases = await json<{ image: { digest: string }; platforms: Array<{ digest: string; bases: Images }> }>('admin', 'bases?image=team/api:latest');
    assert.equal(bases.image.digest, api.digest);
    assert.deepEqual(bases.platforms.map((p) => [p.digest, pairs(p.bases)]), [[api.digest, [['base/debian', ['12']]]]]);
    const dependents = await json<{ dependents: Images }>('admin', `dependents?image=base/debian@${base.digest}&depth=1`);
    assert.deepEqual(pairs(dependents.dependents), [['team/api', ['latest']], ['team/secret', ['latest']]]);
  });

  it('needs pull on the repository asked about and shows only repositories the caller may pull', async () => {
    assert.equal((await get(null, 'dependents?image=base/debian:12')).status, 401);
    assert.equal((await get('alice', 'dependents?image=team/secret:latest')).status, 401);
    const seen = await json<{ dependents: Images }>('alice', 'dependents?image=base/debian:12');
    assert.deepEqual(pairs(seen.dependents), [['team/api', ['latest']]]);
    const bases = await json<{ platforms: Array<{ bases: Images }> }>('admin', 'bases?image=team/secret:latest');
    assert.deepEqual(pairs(bases.platforms[0]!.bases), [['base/debian', ['12']]]);
  });

  it('after the base tag moves, names the stale images and the move in the tag history', async () => {
    for (const blob of [fixed.config, ...fixed.layers]) await uploadBlob(registry.url, 'base/debian', blob);
    const moved = await fetch(`${guarded.url}/v2/base/debian/manifests/12`, {
      method: 'PUT',
      body: fixed.manifest,
      headers: { 'Content-Type': fixed.mediaType, 'X-Test-User': 'admin' },
    });
    assert.equal(moved.status, 201, await moved.text());

    const stale = await json<{ previous: string; current: string; movedBy: string; stale: Images }>('admin', 'stale?image=base/debian:12');
    assert.deepEqual([stale.previous, stale.current, stale.movedBy], [base.digest, fixed.digest, 'admin']);
    assert.deepEqual(pairs(stale.stale), [['team/api', ['latest']], ['team/secret', ['latest']]]);
    assert.deepEqual(pairs((await json<{ stale: Images }>('alice', 'stale?image=base/debian:12')).stale), [['team/api', ['latest']]]);

    const history = await json<{ history: Array<{ oldDigest: string | null; newDigest: string; actor: string | null }> }>('alice', 'tag-history?image=base/debian:12');
    assert.deepEqual(history.history.map((m) => [m.oldDigest, m.newDigest, m.actor]), [[base.digest, fixed.digest, 'admin'], [null, base.digest, null]]);
  });

  it('follows the base annotations of a pushed manifest', async () => {
    const squashed = buildImage({ seed: 'squashed', extra: { annotations: { 'org.opencontainers.image.base.name': 'base/debian:12', 'org.opencontainers.image.base.digest': fixed.digest } } });
    await pushImage(registry.url, 'team/squashed', 'v1', squashed);
    const bases = await json<{ platforms: Array<{ bases: Images; annotation: { name: string; digest: string } }> }>('admin', 'bases?image=team/squashed:v1');
    assert.deepEqual(pairs(bases.platforms[0]!.bases), [['base/debian', ['12']]]);
    assert.deepEqual(bases.platforms[0]!.annotation, { name: 'base/debian:12', digest: fixed.digest });
  });

  it('a deleted base is nobody’s base any more', async () => {
    const deleted = await fetch(`${registry.url}/v2/base/debian/manifests/${base.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    const bases = await json<{ platforms: Array<{ bases: Images }> }>('admin', 'bases?image=team/api:latest');
    assert.deepEqual(bases.platforms[0]!.bases, []);
  });

  it('refuses bad input with the registry error codes', async () => {
    await expectError(await get('admin', 'dependents?image=Bad!Name:1'), 400, 'NAME_INVALID');
    await expectError(await get('admin', 'dependents'), 400, 'REQUEST_INVALID');
    await expectError(await get('admin', 'dependents?image=team/api:latest&depth=0'), 400, 'REQUEST_INVALID');
    await expectError(await get('admin', 'dependents?image=team/api:latest&depth=11'), 400, 'REQUEST_INVALID');
    await expectError(await get('admin', `stale?image=team/api@${api.digest}`), 400, 'TAG_INVALID');
    await expectError(await get('admin', 'bases?image=team/api:missing'), 404, 'MANIFEST_UNKNOWN');
    await expectError(await get('admin', 'ancestors?image=team/api:latest'), 404, 'NOT_FOUND');
    await expectError(await get('admin', 'bases?image=team/api:latest', 'POST'), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('lineage API with token auth', () => {
  const SERVICE = 'dockyard';
  let fx: KeyFixture;
  let issuer: TokenIssuer;
  let registry: TestRegistry;
  let guarded: { url: string; close(): Promise<void> };
  const base = buildImage({ seed: 'token base' });

  before(async () => {
    fx = await keyFixture('lineage');
    const verifier = new TokenVerifier({ issuer: 'dockyard-auth', audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    issuer = new TokenIssuer({ keys: fx.keys, issuer: 'dockyard-auth', ttlSeconds: 300 });
    registry = await startTestRegistry();
    guarded = await startReplica(registry, { access: new TokenAccessController({ realm: 'https://auth.example/token', service: SERVICE, verifier }) });
    await pushImage(registry.url, 'base/debian', '12', base);
    await pushImage(registry.url, 'team/api', 'latest', buildImageOn(base, 'token api'));
    await pushImage(registry.url, 'team/secret', 'latest', buildImageOn(base, 'token secret'));
  });
  after(async () => {
    await guarded?.close();
    await registry?.close();
    fx?.cleanup();
  });

  async function dependentsWith(access: AccessRecord[]): Promise<Response> {
    const { token } = await issuer.issue({ subject: 'ci', audience: SERVICE, access });
    return fetch(`${guarded.url}/api/v1/images/dependents?image=base/debian:12`, { headers: { Authorization: `Bearer ${token}` } });
  }
  const pull = (name: string): AccessRecord => ({ type: 'repository', name, actions: ['pull'] });

  it('shows only the repositories the token grants pull on', async () => {
    const names = async (response: Response) => {
      assert.equal(response.status, 200);
      return ((await response.json()) as { dependents: Images }).dependents.map((d) => d.repository);
    };
    assert.deepEqual(await names(await dependentsWith([pull('base/debian'), pull('team/api')])), ['team/api']);
    assert.deepEqual(await names(await dependentsWith([pull('base/debian')])), []);
    assert.deepEqual(await names(await dependentsWith([pull('base/debian'), pull('team/api'), pull('team/secret')])), ['team/api', 'team/secret']);
  });

  it('challenges a token without pull on the repository asked about, with that scope', async () => {
    const refused = await dependentsWith([pull('team/api')]);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /scope="repository:base\/debian:pull",error="insufficient_scope"/);
  });
});
