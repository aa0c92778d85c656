// The referrers API: manifests with a `subject`, OCI-Subject on push, the image index
// answer, artifactType filtering, and never a 404.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  OCI_CONFIG,
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

const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf('{}'), size: 2 };
const SBOM = 'application/vnd.example.sbom+json';
const SIGNATURE = 'application/vnd.example.signature';

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Array<{ mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }>;
}

describe('referrers', () => {
  let registry: TestRegistry;
  let subject: { digest: string; manifest: Buffer };
  const pushed: Record<string, { digest: string; size: number }> = {};

  async function pushReferrer(key: string, manifest: Record<string, unknown>, mediaType = OCI_MANIFEST): Promise<Response> {
    const bytes = Buffer.from(JSON.stringify(manifest));
    const response = await putManifest(registry.url, 'team/app', digestOf(bytes), bytes, mediaType);
    pushed[key] = { digest: digestOf(bytes), size: bytes.length };
    return response;
  }

  before(async () => {
    registry = await startTestRegistry();
    const image = buildImage({ seed: 'subject' });
    await pushImage(registry.url, 'team/app', 'v1', image);
    subject = { digest: image.digest, manifest: image.manifest };
    await uploadBlob(registry.url, 'team/app', '{}');
    await uploadBlob(registry.url, 'team/app', 'sbom payload');
    await uploadBlob(registry.url, 'team/app', 'signature payload');
  });
  after(() => registry.close());

  const subjectDescriptor = () => descriptor(OCI_MANIFEST, subject.manifest);
  const referrersOf = (digest: string, query = '', name = 'team/app') => fetch(`${registry.url}/v2/${name}/referrers/${digest}${query}`);

  async function index(response: Response): Promise<ReferrersIndex> {
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), OCI_INDEX);
    const body = (await response.json()) as ReferrersIndex;
    assert.equal(body.schemaVersion, 2);
    assert.equal(body.mediaType, OCI_INDEX);
    return body;
  }

  it('pushing a manifest with a subject answers OCI-Subject', async () => {
    const response = await pushReferrer('sbom', {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: SBOM,
      config: EMPTY,
      layers: [descriptor('application/spdx+json', 'sbom payload')],
      subject: subjectDescriptor(),
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(response.headers.get('oci-subject'), subject.digest);
  });

  it('lists the referrers of the subject as an image index with artifactType and annotations', async () => {
    assert.equal(
      (
        await pushReferrer('signature', {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: SIGNATURE,
          config: EMPTY,
          layers: [descriptor('application/octet-stream', 'signature payload')],
          subject: subjectDescriptor(),
        })
      ).status,
      201,
    );
    // An image manifest without artifactType is reported with its config media type.
    const configBytes = Buffer.from('{"kind":"config-typed"}');
    await uploadBlob(registry.url, 'team/app', configBytes);
    assert.equal(
      (await pushReferrer('configTyped', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, configBytes), layers: [], subject: subjectDescriptor() })).status,
      201,
    );
    const body = await index(await referrersOf(subject.digest));
    const byDigest = new Map(body.manifests.map((m) => [m.digest, m]));
    assert.equal(body.manifests.length, 3);
    assert.deepEqual(byDigest.get(pushed.sbom!.digest), {
      mediaType: OCI_MANIFEST,
      digest: pushed.sbom!.digest,
      size: pushed.sbom!.size,
      artifactType: SBOM,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
    assert.deepEqual(byDigest.get(pushed.signature!.digest), {
      mediaType: OCI_MANIFEST,
      digest: pushed.signature!.digest,
      size: pushed.signature!.size,
      artifactType: SIGNATURE,
    });
    assert.equal(byDigest.get(pushed.configTyped!.digest)?.artifactType, OCI_CONFIG);
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const response = await referrersOf(subject.digest, `?artifactType=${encodeURIComponent(SIGNATURE)}`);
    assert.equal(response.headers.get('oci-filters-applied'), 'artifactType');
    const body = await index(response);
    assert.deepEqual(body.manifests.map((m) => m.digest), [pushed.signature!.digest]);
    const none = await referrersOf(subject.digest, '?artifactType=application/vnd.nothing');
    assert.equal(none.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual((await index(none)).manifests, []);
    assert.equal((await referrersOf(subject.digest)).headers.get('oci-filters-applied'), null);
  });

  it('an index can refer to a subject too', async () => {
    const child = pushed.signature!;
    const response = await pushReferrer(
      'index',
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        artifactType: 'application/vnd.example.bundle',
        manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.size }],
        subject: subjectDescriptor(),
      },
      OCI_INDEX,
    );
    assert.equal(response.status, 201, await response.clone().text());
    const body = await index(await referrersOf(subject.digest, '?artifactType=application/vnd.example.bundle'));
    assert.deepEqual(body.manifests, [{ mediaType: OCI_INDEX, digest: pushed.index!.digest, size: pushed.index!.size, artifactType: 'application/vnd.example.bundle' }]);
  });

  it('accepts a referrer before its subject exists, and lists it', async () => {
    const future = buildImage({ seed: 'pushed later' });
    const response = await pushReferrer('early', {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: SBOM,
      config: EMPTY,
      layers: [],
      subject: descriptor(OCI_MANIFEST, future.manifest),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('oci-subject'), future.digest);
    assert.deepEqual((await index(await referrersOf(future.digest))).manifests.map((m) => m.digest), [pushed.early!.digest]);
  });

  it('a deleted referrer is no longer listed', async () => {
    assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/${pushed.early!.digest}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await index(await referrersOf(digestOf(buildImage({ seed: 'pushed later' }).manifest)))).manifests, []);
  });

  it('an unknown subject or repository has an empty index, never 404', async () => {
    assert.deepEqual((await index(await referrersOf(digestOf('no such manifest')))).manifests, []);
    assert.deepEqual((await index(await referrersOf(subject.digest, '', 'team/unknown'))).manifests, []);
  });

  it('referrers are per repository', async () => {
    assert.deepEqual((await index(await referrersOf(subject.digest, '', 'team/other'))).manifests, []);
  });

  it('a malformed digest is DIGEST_INVALID', async () => {
    await expectError(await referrersOf('sha256:1234'), 400, 'DIGEST_INVALID');
    await expectError(await referrersOf('latest'), 400, 'DIGEST_INVALID');
  });
});
