// Push by digest and tag at once (`PUT /v2/<name>/manifests/<digest>?tag=…`, OCI
// distribution 1.1): every tag applied is echoed in an OCI-Tag header, bad tags store nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OCI_MANIFEST, buildImage, expectError, startTestRegistry, uploadBlob, type TestImage, type TestRegistry } from './harness.js';

describe('manifest push by digest with tag parameters', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
  });
  after(() => registry.close());

  async function uploadBlobs(name: string, image: TestImage): Promise<void> {
    for (const blob of [image.config, ...image.layers]) await uploadBlob(registry.url, name, blob);
  }

  function putWithTags(name: string, reference: string, image: TestImage, tags: string[]): Promise<Response> {
    const query = tags.map((tag) => `tag=${encodeURIComponent(tag)}`).join('&');
    return fetch(`${registry.url}/v2/${name}/manifests/${reference}${query ? `?${query}` : ''}`, {
      method: 'PUT',
      body: image.manifest,
      headers: { 'Content-Type': OCI_MANIFEST },
    });
  }

  /** The tags named by every OCI-Tag header (RFC 9110 list syntax: one header or several, comma separated). */
  function ociTags(response: Response): string[] {
    const header = response.headers.get('oci-tag');
    return header === null ? [] : header.split(',').map((tag) => tag.trim());
  }

  async function resolves(name: string, tag: string): Promise<string | null> {
    const response = await fetch(`${registry.url}/v2/${name}/manifests/${tag}`, { method: 'HEAD' });
    return response.status === 200 ? response.headers.get('docker-content-digest') : null;
  }

  async function tagList(name: string): Promise<string[]> {
    const response = await fetch(`${registry.url}/v2/${name}/tags/list`);
    if (response.status === 404) return [];
    return ((await response.json()) as { tags: string[] }).tags;
  }

  it('applies every tag parameter and answers one OCI-Tag per tag', async () => {
    const image = buildImage({ seed: 'tag param' });
    await uploadBlobs('team/tagparam', image);
    const tags = ['1.2.3', '1.2', '1', 'latest', '_build', 'A'.repeat(128)];
    const response = await putWithTags('team/tagparam', image.digest, image, tags);
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(response.headers.get('docker-content-digest'), image.digest);
    assert.equal(response.headers.get('location'), `/v2/team/tagparam/manifests/${image.digest}`);
    assert.deepEqual(ociTags(response).sort(), [...tags].sort());
    for (const tag of tags) assert.equal(await resolves('team/tagparam', tag), image.digest, tag);
  });

  it('a repeated tag is applied and echoed once; a push by digest without tags has no OCI-Tag', async () => {
    const image = buildImage({ seed: 'tag param repeat' });
    await uploadBlobs('team/tagrepeat', image);
    const twice = await putWithTags('team/tagrepeat', image.digest, image, ['v1', 'v1']);
    assert.equal(twice.status, 201, await twice.clone().text());
    assert.deepEqual(ociTags(twice), ['v1']);
    const none = await putWithTags('team/tagrepeat', image.digest, image, []);
    assert.equal(none.status, 201);
    assert.equal(none.headers.get('oci-tag'), null);
    assert.deepEqual(await tagList('team/tagrepeat'), ['v1']);
  });

  it('moves an existing tag to the pushed digest', async () => {
    const first = buildImage({ seed: 'tag param first' });
    const second = buildImage({ seed: 'tag param second' });
    await uploadBlobs('team/tagmove', first);
    await uploadBlobs('team/tagmove', second);
    assert.equal((await putWithTags('team/tagmove', first.digest, first, ['stable'])).status, 201);
    assert.equal((await putWithTags('team/tagmove', second.digest, second, ['stable', 'new'])).status, 201);
    assert.equal(await resolves('team/tagmove', 'stable'), second.digest);
    assert.equal(await resolves('team/tagmove', 'new'), second.digest);
  });

  for (const bad of ['-leading-dash', '.hidden', 'has space', 'a/b', 'x'.repeat(129), '']) {
    it(`refuses the tag ${JSON.stringify(bad.slice(0, 20))} with TAG_INVALID and stores nothing`, async () => {
      const image = buildImage({ seed: `tag param bad ${bad}` });
      const name = 'team/tagbad';
      await uploadBlobs(name, image);
      const response = await putWithTags(name, image.digest, image, ['good', bad]);
      await expectError(response, 400, 'TAG_INVALID');
      assert.equal(await resolves(name, 'good'), null, 'a valid tag beside an invalid one is not applied');
      const manifest = await fetch(`${registry.url}/v2/${name}/manifests/${image.digest}`, { method: 'HEAD' });
      assert.equal(manifest.status, 404, 'the manifest itself was not stored');
    });
  }

  it('a body that does not match the digest is DIGEST_INVALID and applies no tag', async () => {
    const image = buildImage({ seed: 'tag param mismatch' });
    const other = buildImage({ seed: 'tag param other' });
    await uploadBlobs('team/tagmismatch', other);
    const response = await putWithTags('team/tagmismatch', image.digest, other, ['v1']);
    await expectError(response, 400, 'DIGEST_INVALID');
    assert.equal(await resolves('team/tagmismatch', 'v1'), null);
  });

  it('more tags than fit in 16 KiB of request head: 431 from node, nothing stored', async () => {
    const image = buildImage({ seed: 'tag param many' });
    await uploadBlobs('team/tagmany', image);
    const tags = Array.from({ length: 200 }, (_, i) => `${'t'.repeat(120)}${i}`);
    const response = await putWithTags('team/tagmany', image.digest, image, tags);
    assert.equal(response.status, 431);
    assert.equal(await resolves('team/tagmany', tags[0]!), null);
    const ten = await putWithTags('team/tagmany', image.digest, image, tags.slice(0, 10));
    assert.equal(ten.status, 201, 'at least ten full-length tags fit, as the spec asks');
    assert.equal(ociTags(ten).length, 10);
  });

  it('tag parameters on a push by tag are refused with TAG_INVALID', async () => {
    const image = buildImage({ seed: 'tag param on tag' });
    await uploadBlobs('team/tagontag', image);
    const response = await putWithTags('team/tagontag', 'v1', image, ['v2']);
    await expectError(response, 400, 'TAG_INVALID');
    assert.equal(await resolves('team/tagontag', 'v1'), null);
    assert.equal(await resolves('team/tagontag', 'v2'), null);
  });
});
