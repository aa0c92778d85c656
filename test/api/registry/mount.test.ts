// Cross-repository blob mount: 201 when the blob is linked in `from` and the caller may
// pull there, otherwise the spec's fallback to a plain 202 upload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableAccessController, digestOf, expectError, startTestRegistry, uploadBlob, type TestRegistry } from './harness.js';

describe('cross-repository mount (no auth)', () => {
  let registry: TestRegistry;
  let digest: string;
  const content = Buffer.from('a layer that lives in team/source');
  before(async () => {
    registry = await startTestRegistry();
    digest = await uploadBlob(registry.url, 'team/source', content);
  });
  after(() => registry.close());

  const mount = (query: string, name = 'team/target') => fetch(`${registry.url}/v2/${name}/blobs/uploads/?${query}`, { method: 'POST' });

  it('mounts a blob linked in from: 201 with Location and Docker-Content-Digest, no upload', async () => {
    const response = await mount(`mount=${digest}&from=team/source`);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('location'), `/v2/team/target/blobs/${digest}`);
    assert.equal(response.headers.get('docker-content-digest'), digest);
    assert.equal(response.headers.get('content-length'), '0');
    assert.equal(response.headers.get('docker-upload-uuid'), null);
    const pulled = await fetch(`${registry.url}/v2/team/target/blobs/${digest}`);
    assert.equal(pulled.status, 200);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content));
  });

  it('accepts a percent-encoded from', async () => {
    const response = await mount(`mount=${encodeURIComponent(digest)}&from=${encodeURIComponent('team/source')}`, 'team/encoded');
    assert.equal(response.status, 201);
  });

  const fallbacks: Array<[string, string]> = [
    ['the blob is not in from', `mount=${digestOf('elsewhere')}&from=team/source`],
    ['from is unknown', 'mount=DIGEST&from=team/nothing-here'],
    ['from is missing', 'mount=DIGEST'],
    ['from is not a valid name', 'mount=DIGEST&from=Team/../source'],
    ['the digest is malformed', 'mount=sha256:nope&from=team/source'],
  ];
  for (const [why, query] of fallbacks) {
    it(`falls back to a 202 upload when ${why}`, async () => {
      const response = await mount(query.replace('DIGEST', digest), 'team/fallback');
      assert.equal(response.status, 202);
      assert.match(response.headers.get('location') ?? '', /^\/v2\/team\/fallback\/blobs\/uploads\/[0-9a-f-]+$/);
      assert.equal(response.headers.get('range'), '0-0');
      await expectError(await fetch(`${registry.url}/v2/team/fallback/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    });
  }

  it('a blob whose content was collected is not mounted', async () => {
    const bytes = Buffer.from('collected before the mount');
    const gone = await uploadBlob(registry.url, 'team/source', bytes);
    await registry.blobs.delete({ algorithm: 'sha256', encoded: gone.slice(7), value: gone });
    assert.equal((await mount(`mount=${gone}&from=team/source`, 'team/late')).status, 202);
  });
});

describe('cross-repository mount with access control', () => {
  let registry: TestRegistry;
  let access: TableAccessController;
  let digest: string;
  before(async () => {
    access = new TableAccessController({
      admin: '*',
      // May push to target but not pull from secret.
      mallory: [{ type: 'repository', name: 'team/target', actions: ['pull', 'push'] }],
      carol: [
        { type: 'repository', name: 'team/target', actions: ['pull', 'push'] },
        { type: 'repository', name: 'team/secret', actions: ['pull'] },
      ],
    });
    registry = await startTestRegistry({ access });
    const content = Buffer.from('secret layer');
    digest = digestOf(content);
    const response = await fetch(`${registry.url}/v2/team/secret/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: content,
      headers: { 'X-Test-User': 'admin' },
    });
    assert.equal(response.status, 201);
  });
  after(() => registry.close());

  const mountAs = (user: string | null) =>
    fetch(`${registry.url}/v2/team/target/blobs/uploads/?mount=${digest}&from=team/secret`, {
      method: 'POST',
      headers: user === null ? {} : { 'X-Test-User': user },
    });

  it('asks for pull on from as well as pull,push on the target', async () => {
    access.calls.length = 0;
    assert.equal((await mountAs('carol')).status, 201);
    assert.deepEqual(access.calls[0], [
      { type: 'repository', name: 'team/target', actions: ['pull', 'push'] },
      { type: 'repository', name: 'team/secret', actions: ['pull'] },
    ]);
  });

  it('a caller without pull on from never mounts into a repository that lacks the blob', async () => {
    // carol's mount above linked it; start from a target without the blob.
    const unlinked = await fetch(`${registry.url}/v2/team/target/blobs/${digest}`, { method: 'DELETE', headers: { 'X-Test-User': 'admin' } });
    assert.equal(unlinked.status, 202);
    const response = await mountAs('mallory');
    assert.equal(response.status, 202);
    assert.match(response.headers.get('location') ?? '', /^\/v2\/team\/target\/blobs\/uploads\//);
    await expectError(await fetch(`${registry.url}/v2/team/target/blobs/${digest}`, { headers: { 'X-Test-User': 'admin' } }), 404, 'BLOB_UNKNOWN');
  });

  it('an anonymous mount is challenged with both scopes', async () => {
    const response = await mountAs(null);
    assert.equal(
      response.headers.get('www-authenticate'),
      'Bearer realm="test",service="test",scope="repository:team/target:pull,push repository:team/secret:pull"',
    );
    await expectError(response, 401, 'UNAUTHORIZED');
  });
});
