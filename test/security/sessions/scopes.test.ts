// Token scopes end to end (auth service + a token-mode registry trusting its certificates):
// a token for one repository used on another, a pull token used to push, a retag without
// push, the catalog without a catalog grant, and a huge `n` on the catalog. The
// unit-level versions of some of these live in test/security/tokens; here the token comes
// from the real token endpoint and the refusal from the real registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, createUser } from '../../api/auth/harness.js';
import { buildImage } from '../../api/registry/harness.js';
import { startTokenStack, type TokenStack } from '../services.js';
import { accessOf, expectChallenge, pushWith, tokenFor as issueToken, withToken } from './client.js';

const PAGE_MAX = 3;
/** Every token and password this file used, to check that neither service logged one. */
const secrets = new Set(['alice-password', 'bob-password', ADMIN_PASSWORD]);

describe('token scopes at the registry', () => {
  let stack: TokenStack;
  let url: string;
  let v1Digest: string;
  before(async () => {
    stack = await startTokenStack({ registry: { pageMaxEntries: PAGE_MAX } });
    url = stack.registry.url;
    await createUser(stack.auth, 'alice', 'alice-password', [['alice/*', 'pull,push'], ['shared/*', 'pull'], ['ops/*', 'pull,delete']]);
    await createUser(stack.auth, 'bob', 'bob-password', [['bob/*', 'pull,push'], ['shared/*', 'pull,push'], ['ops/*', 'pull,push']]);
    const bob = await tokenFor(stack.auth, 'bob', 'bob-password', ['repository:shared/lib:pull,push', 'repository:ops/app:pull,push', 'repository:bob/app:pull,push']);
    v1Digest = await pushWith(url, bob, 'shared/lib', 'v1', buildImage({ seed: 'v1' }));
    await pushWith(url, bob, 'shared/lib', 'v2', buildImage({ seed: 'v2' }));
    await pushWith(url, bob, 'ops/app', 'v1', buildImage({ seed: 'v1' }));
    await pushWith(url, bob, 'bob/app', 'v1', buildImage({ seed: 'bob' }));
  });
  after(() => stack?.close());

  const tokenFor: typeof issueToken = async (...args) => {
    const token = await issueToken(...args);
    secrets.add(token);
    return token;
  };

  const manifestOf = async (name: string, tag: string, token: string) =>
    (await withToken(`${url}/v2/${name}/manifests/${tag}`, token, { method: 'HEAD' })).headers.get('docker-content-digest');

  it('a token for repository A is refused on repository B', async () => {
    const token = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:alice/app:pull,push']);
    await expectChallenge(await withToken(`${url}/v2/bob/app/manifests/v1`, token), 'repository:bob/app:pull', 'insufficient_scope');
    await expectChallenge(await withToken(`${url}/v2/bob/app/tags/list`, token), 'repository:bob/app:pull', 'insufficient_scope');
    await expectChallenge(await withToken(`${url}/v2/alice/app/x/tags/list`, token), 'repository:alice/app/x:pull', 'insufficient_scope');
  });

  it('asking for repository B without a grant yields a token without B', async () => {
    const token = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:bob/app:pull,push']);
    assert.deepEqual(accessOf(token), []);
    await expectChallenge(await withToken(`${url}/v2/bob/app/manifests/v1`, token), 'repository:bob/app:pull', 'insufficient_scope');
  });

  it('a pull token cannot push: no upload starts, no manifest is written', async () => {
    const token = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:alice/app:pull']);
    await expectChallenge(await withToken(`${url}/v2/alice/app/blobs/uploads/`, token, { method: 'POST' }), 'repository:alice/app:pull,push', 'insufficient_scope');
    const image = buildImage({ seed: 'pull-only' });
    await expectChallenge(
      await withToken(`${url}/v2/alice/app/manifests/latest`, token, { method: 'PUT', body: image.manifest, headers: { 'Content-Type': image.mediaType } }),
      'repository:alice/app:pull,push',
      'insufficient_scope',
    );
  });

  it('push is needed to retag: pull-only and pull+delete tokens cannot move a tag (there is no create-only right)', async () => {
    const v2 = buildImage({ seed: 'v2' });
    const pullOnly = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:shared/lib:pull,push']);
    assert.deepEqual(accessOf(pullOnly), [{ type: 'repository', name: 'shared/lib', actions: ['pull'] }], 'push was asked for but not granted');
    await expectChallenge(
      await withToken(`${url}/v2/shared/lib/manifests/v1`, pullOnly, { method: 'PUT', body: v2.manifest, headers: { 'Content-Type': v2.mediaType } }),
      'repository:shared/lib:pull,push',
      'insufficient_scope',
    );
    assert.equal(await manifestOf('shared/lib', 'v1', pullOnly), v1Digest);

    const pullDelete = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:ops/app:pull,push,delete']);
    assert.deepEqual(accessOf(pullDelete), [{ type: 'repository', name: 'ops/app', actions: ['pull', 'delete'] }]);
    await expectChallenge(
      await withToken(`${url}/v2/ops/app/manifests/v1`, pullDelete, { method: 'PUT', body: v2.manifest, headers: { 'Content-Type': v2.mediaType } }),
      'repository:ops/app:pull,push',
      'insufficient_scope',
    );
    assert.equal(await manifestOf('ops/app', 'v1', pullDelete), v1Digest);
  });

  it('the catalog needs a catalog grant: whole for an admin, only the pullable repositories for others', async () => {
    const repositoryToken = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:alice/app:pull']);
    await expectChallenge(await withToken(`${url}/v2/_catalog`, repositoryToken), 'registry:catalog:*', 'insufficient_scope');
    const asked = await tokenFor(stack.auth, 'alice', 'alice-password', ['registry:catalog:*']);
    assert.deepEqual(accessOf(asked), [{ type: 'registry', name: 'catalog', actions: ['list'] }]);
    const visible = await withToken(`${url}/v2/_catalog`, asked);
    assert.deepEqual(await visible.json(), { repositories: ['ops/app', 'shared/lib'] }, 'bob/app is not alice\'s to see');
    await expectChallenge(await fetch(`${url}/v2/_catalog?n=1000000000`), 'registry:catalog:*');
    const admin = await tokenFor(stack.auth, 'admin', ADMIN_PASSWORD, ['registry:catalog:*']);
    const listed = await withToken(`${url}/v2/_catalog`, admin);
    assert.equal(listed.status, 200);
  });

  it('_catalog?n=1000000000 (or 400 digits) with the catalog scope is one capped page', async () => {
    const admin = await tokenFor(stack.auth, 'admin', ADMIN_PASSWORD, ['registry:catalog:*']);
    for (const n of ['1000000000', '9'.repeat(400)]) {
      const response = await withToken(`${url}/v2/_catalog?n=${n}`, admin);
      assert.equal(response.status, 200);
      const { repositories } = (await response.json()) as { repositories: string[] };
      assert.deepEqual(repositories, ['bob/app', 'ops/app', 'shared/lib'].slice(0, PAGE_MAX));
      assert.equal(response.headers.get('link'), null, 'three repositories fit one page of three');
    }
    // One more repository: the capped page now links to the rest.
    const alice = await tokenFor(stack.auth, 'alice', 'alice-password', ['repository:alice/app:pull,push']);
    await pushWith(url, alice, 'alice/app', 'v1', buildImage({ seed: 'alice' }));
    const capped = await withToken(`${url}/v2/_catalog?n=1000000000`, admin);
    assert.equal(((await capped.json()) as { repositories: string[] }).repositories.length, PAGE_MAX);
    assert.match(capped.headers.get('link') ?? '', /^<\/v2\/_catalog\?last=[^>]+&n=3>; rel="next"$/);
  });

  it("no token or password reached either service's logs", () => {
    const logs = stack.registry.logs() + stack.auth.logs();
    assert.ok(logs.length > 0, 'the services logged nothing at all');
    for (const secret of secrets) assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 12)}…) was logged`);
  });
});
