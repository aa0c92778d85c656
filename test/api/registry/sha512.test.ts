// sha512 end to end: blob uploads (monolithic and chunked), pulls, ranges, mounts, and
// manifests pushed by sha512 digest with sha512 descriptors and subjects.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  OCI_INDEX,
  OCI_MANIFEST,
  buildImage,
  descriptor,
  digestOf,
  expectError,
  pushImage,
  putManifest,
  startTestRegistry,
  uploadBlob,
  type TestRegistry,
} from './harness.js';

describe('sha512', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
  });
  after(() => registry.close());

  it('uploads monolithically and pulls by sha512 digest, with ranges', async () => {
    const bytes = randomBytes(200_000);
    const digest = await uploadBlob(registry.url, 'team/sha512', bytes, 'sha512');
    assert.match(digest, /^sha512:[0-9a-f]{128}$/);
    const pulled = await fetch(`${registry.url}/v2/team/sha512/blobs/${digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(pulled.headers.get('docker-content-digest'), digest);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(bytes));
    const part = await fetch(`${registry.url}/v2/team/sha512/blobs/${digest}`, { headers: { Range: 'bytes=1000-1999' } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000)));
  });

  it('uploads in chunks and completes with a sha512 digest (POST ?digest= too)', async () => {
    const bytes = randomBytes(90_000);
    const digest = digestOf(bytes, 'sha512');
    const start = await fetch(`${registry.url}/v2/team/sha512/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location')!;
    assert.equal((await fetch(`${registry.url}${location}`, { method: 'PATCH', body: bytes.subarray(0, 40_000), headers: { 'Content-Range': '0-39999' } })).status, 202);
    assert.equal((await fetch(`${registry.url}${location}`, { method: 'PATCH', body: bytes.subarray(40_000), headers: { 'Content-Range': '40000-89999' } })).status, 202);
    const done = await fetch(`${registry.url}${location}?digest=${digest}`, { method: 'PUT' });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('docker-content-digest'), digest);
    assert.equal(done.headers.get('location'), `/v2/team/sha512/blobs/${digest}`);
    const head = await fetch(`${registry.url}/v2/team/sha512/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(bytes.length));

    const small = Buffer.from('one request, sha512');
    const post = await fetch(`${registry.url}/v2/team/sha512/blobs/uploads/?digest=${digestOf(small, 'sha512')}`, { method: 'POST', body: small });
    assert.equal(post.status, 201);
  });

  it('a wrong sha512 digest is DIGEST_INVALID', async () => {
    const response = await fetch(`${registry.url}/v2/team/sha512/blobs/uploads/?digest=${digestOf('other', 'sha512')}`, { method: 'POST', body: 'this' });
    await expectError(response, 400, 'DIGEST_INVALID');
  });

  it('mounts a sha512 blob across repositories', async () => {
    const digest = await uploadBlob(registry.url, 'team/sha512', 'mount me (sha512)', 'sha512');
    const response = await fetch(`${registry.url}/v2/team/sha512-copy/blobs/uploads/?mount=${digest}&from=team/sha512`, { method: 'POST' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('docker-content-digest'), digest);
  });

  it('pushes a manifest with sha512 descriptors by its sha512 digest and pulls it back', async () => {
    const image = buildImage({ seed: 'sha512 image', algorithm: 'sha512' });
    const digest512 = digestOf(image.manifest, 'sha512');
    const pushed = await pushImage(registry.url, 'team/sha512', digest512, image, 'sha512');
    assert.equal(pushed, digest512);
    const pulled = await fetch(`${registry.url}/v2/team/sha512/manifests/${digest512}`);
    assert.equal(pulled.status, 200);
    assert.equal(pulled.headers.get('docker-content-digest'), digest512);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(image.manifest));
    // By tag, the registry names the same bytes by sha256.
    const tagged = await putManifest(registry.url, 'team/sha512', 'v1', image.manifest, OCI_MANIFEST);
    assert.equal(tagged.status, 201);
    assert.equal(tagged.headers.get('docker-content-digest'), digestOf(image.manifest));
  });

  it('a manifest whose sha512 does not match the URL is DIGEST_INVALID', async () => {
    const image = buildImage({ seed: 'sha512 mismatch', algorithm: 'sha512' });
    for (const blob of [image.config, ...image.layers]) await uploadBlob(registry.url, 'team/sha512', blob, 'sha512');
    const response = await putManifest(registry.url, 'team/sha512', digestOf('something else', 'sha512'), image.manifest, OCI_MANIFEST);
    await expectError(response, 400, 'DIGEST_INVALID');
  });

  it('an index of sha512 children and a referrer of a sha512 subject', async () => {
    const child = buildImage({ seed: 'sha512 child', algorithm: 'sha512' });
    const childDigest = await pushImage(registry.url, 'team/sha512', digestOf(child.manifest, 'sha512'), child, 'sha512');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(OCI_MANIFEST, child.manifest, 'sha512')] }));
    const indexDigest = digestOf(index, 'sha512');
    assert.equal((await putManifest(registry.url, 'team/sha512', indexDigest, index, OCI_INDEX)).status, 201);

    await uploadBlob(registry.url, 'team/sha512', '{}');
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.sig',
        config: descriptor('application/vnd.oci.empty.v1+json', '{}'),
        layers: [],
        subject: descriptor(OCI_MANIFEST, child.manifest, 'sha512'),
      }),
    );
    const response = await putManifest(registry.url, 'team/sha512', 'sig', referrer, OCI_MANIFEST);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('oci-subject'), childDigest);
    const referrers = await fetch(`${registry.url}/v2/team/sha512/referrers/${childDigest}`);
    const body = (await referrers.json()) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(body.manifests.map((m) => m.digest), [digestOf(referrer)]);
  });
});
