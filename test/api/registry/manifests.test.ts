// Manifest push, pull, HEAD and delete for every supported type, and every refusal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
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

const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf('{}'), size: 2 };

describe('manifests', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
  });
  after(() => registry.close());

  const manifestUrl = (name: string, reference: string) => `${registry.url}/v2/${name}/manifests/${reference}`;

  async function expectManifest(name: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
    const digest = digestOf(bytes);
    const response = await fetch(manifestUrl(name, reference), { headers: { Accept: 'application/json' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), mediaType);
    assert.equal(response.headers.get('docker-content-digest'), digest);
    assert.equal(response.headers.get('etag'), `"${digest}"`);
    assert.equal(response.headers.get('content-length'), String(bytes.length));
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), 'the exact pushed bytes');
    const head = await fetch(manifestUrl(name, reference), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), mediaType);
    assert.equal(head.headers.get('docker-content-digest'), digest);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
  }

  it('pushes an OCI image by tag: 201 with Location and Docker-Content-Digest; pulls it by tag and digest', async () => {
    const image = buildImage({ seed: 'oci' });
    for (const blob of [image.config, ...image.layers]) await uploadBlob(registry.url, 'team/oci', blob);
    const response = await putManifest(registry.url, 'team/oci', 'v1', image.manifest, OCI_MANIFEST);
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(response.headers.get('docker-content-digest'), image.digest);
    assert.equal(response.headers.get('location'), `/v2/team/oci/manifests/${image.digest}`);
    assert.equal(response.headers.get('oci-subject'), null);
    assert.equal(response.headers.get('content-length'), '0');
    await expectManifest('team/oci', 'v1', image.manifest, OCI_MANIFEST);
    await expectManifest('team/oci', image.digest, image.manifest, OCI_MANIFEST);
  });

  it('pushes a Docker schema 2 image and a manifest list of two', async () => {
    const amd = buildImage({ seed: 'docker-amd64', docker: true });
    const arm = buildImage({ seed: 'docker-arm64', docker: true });
    await pushImage(registry.url, 'team/docker', 'amd64', amd);
    await pushImage(registry.url, 'team/docker', 'arm64', arm);
    await expectManifest('team/docker', 'amd64', amd.manifest, DOCKER_MANIFEST);
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [
          { ...descriptor(DOCKER_MANIFEST, amd.manifest), platform: { architecture: 'amd64', os: 'linux' } },
          { ...descriptor(DOCKER_MANIFEST, arm.manifest), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        ],
      }),
    );
    const response = await putManifest(registry.url, 'team/docker', 'latest', list, DOCKER_LIST);
    assert.equal(response.status, 201, await response.clone().text());
    await expectManifest('team/docker', 'latest', list, DOCKER_LIST);
  });

  it('pushes an OCI index; a child missing from the repository is MANIFEST_BLOB_UNKNOWN', async () => {
    const child = buildImage({ seed: 'index-child' });
    await pushImage(registry.url, 'team/index', child.digest, child);
    const missing = buildImage({ seed: 'never pushed' });
    const index = (children: Buffer[]) => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => descriptor(OCI_MANIFEST, c)) });
    const good = Buffer.from(JSON.stringify(index([child.manifest])));
    assert.equal((await putManifest(registry.url, 'team/index', 'multi', good, OCI_INDEX)).status, 201);
    await expectManifest('team/index', 'multi', good, OCI_INDEX);
    const bad = await putManifest(registry.url, 'team/index', 'broken', index([child.manifest, missing.manifest]), OCI_INDEX);
    const error = await expectError(bad, 404, 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual(error.detail, { digest: missing.digest });
    // A child in another repository does not count.
    await expectError(await putManifest(registry.url, 'team/elsewhere', 'x', index([child.manifest]), OCI_INDEX), 404, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('refuses a manifest whose config or layer is not linked in the repository', async () => {
    const image = buildImage({ seed: 'partial' });
    await uploadBlob(registry.url, 'team/partial', image.config);
    await uploadBlob(registry.url, 'team/partial', image.layers[0]!);
    // The second layer exists, but only in another repository.
    await uploadBlob(registry.url, 'team/other', image.layers[1]!);
    const error = await expectError(await putManifest(registry.url, 'team/partial', 'v1', image.manifest, OCI_MANIFEST), 404, 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual(error.detail, { digest: digestOf(image.layers[1]!) });
    const noConfig = buildImage({ seed: 'no config', layers: 0 });
    await expectError(await putManifest(registry.url, 'team/partial', 'v2', noConfig.manifest, OCI_MANIFEST), 404, 'MANIFEST_BLOB_UNKNOWN');
    await expectError(await fetch(manifestUrl('team/partial', 'v1')), 404, 'MANIFEST_UNKNOWN');
  });

  it('refuses a descriptor whose size contradicts the stored blob', async () => {
    const config = Buffer.from('{"size":"check"}');
    await uploadBlob(registry.url, 'team/sizes', config);
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...descriptor(OCI_CONFIG, config), size: config.length + 1 }, layers: [] };
    await expectError(await putManifest(registry.url, 'team/sizes', 'v1', manifest, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
  });

  it('accepts absent non-distributable layers and layers with urls', async () => {
    const config = Buffer.from('{"foreign":true}');
    await uploadBlob(registry.url, 'team/foreign', config);
    const manifest = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: descriptor('application/vnd.docker.container.image.v1+json', config),
      layers: [
        { ...descriptor('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'windows base'), urls: ['https://example.com/base'] },
        descriptor('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'restricted'),
        { ...descriptor(OCI_LAYER, 'hosted elsewhere'), urls: ['https://example.com/layer'] },
      ],
    };
    const response = await putManifest(registry.url, 'team/foreign', 'v1', manifest, DOCKER_MANIFEST);
    assert.equal(response.status, 201, await response.clone().text());
  });

  it('pushes an artifact: artifactType, empty config, any layer media type', async () => {
    await uploadBlob(registry.url, 'team/artifacts', '{}');
    const payload = Buffer.from('signature bytes');
    await uploadBlob(registry.url, 'team/artifacts', payload);
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.sbom+json',
        config: EMPTY_CONFIG,
        layers: [descriptor('application/vnd.example.sbom.layer+json', payload)],
        annotations: { 'org.example.kind': 'sbom' },
      }),
    );
    assert.equal((await putManifest(registry.url, 'team/artifacts', 'sbom', artifact, OCI_MANIFEST)).status, 201);
    await expectManifest('team/artifacts', 'sbom', artifact, OCI_MANIFEST);
    const customConfig = Buffer.from('{"helm":"chart"}');
    await uploadBlob(registry.url, 'team/artifacts', customConfig);
    const chart = { schemaVersion: 2, config: descriptor('application/vnd.cncf.helm.config.v1+json', customConfig), layers: [] };
    assert.equal((await putManifest(registry.url, 'team/artifacts', 'chart', chart, OCI_MANIFEST)).status, 201);
  });

  it('takes the media type from Content-Type when the manifest has no mediaType field, and infers it without either', async () => {
    const config = Buffer.from('{"typeless":1}');
    await uploadBlob(registry.url, 'team/typeless', config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: descriptor(OCI_CONFIG, config), layers: [] }));
    assert.equal((await putManifest(registry.url, 'team/typeless', 'a', manifest, `${OCI_MANIFEST}; charset=utf-8`)).status, 201);
    await expectManifest('team/typeless', 'a', manifest, OCI_MANIFEST);
    const other = Buffer.from(JSON.stringify({ schemaVersion: 2, config: descriptor(OCI_CONFIG, config), layers: [], annotations: { a: 'b' } }));
    assert.equal((await putManifest(registry.url, 'team/typeless', 'b', other, 'application/json')).status, 201);
    await expectManifest('team/typeless', 'b', other, OCI_MANIFEST);
  });

  it('re-pushing the same manifest is idempotent; pushing a tag again moves it', async () => {
    const first = buildImage({ seed: 'moving 1' });
    const second = buildImage({ seed: 'moving 2' });
    await pushImage(registry.url, 'team/moving', 'latest', first);
    const again = await putManifest(registry.url, 'team/moving', 'latest', first.manifest, OCI_MANIFEST);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('docker-content-digest'), first.digest);
    await pushImage(registry.url, 'team/moving', 'latest', second);
    await expectManifest('team/moving', 'latest', second.manifest, OCI_MANIFEST);
    await expectManifest('team/moving', first.digest, first.manifest, OCI_MANIFEST);
  });

  it('pushes by digest; a digest that does not match the bytes is DIGEST_INVALID', async () => {
    const image = buildImage({ seed: 'by digest' });
    await pushImage(registry.url, 'team/bydigest', image.digest, image);
    await expectManifest('team/bydigest', image.digest, image.manifest, OCI_MANIFEST);
    const other = buildImage({ seed: 'by digest', extra: { annotations: { changed: 'yes' } } });
    const wrong = await putManifest(registry.url, 'team/bydigest', image.digest, other.manifest, OCI_MANIFEST);
    await expectError(wrong, 400, 'DIGEST_INVALID');
  });

  const invalid: Array<[string, unknown, string | undefined, RegExp]> = [
    ['not JSON', Buffer.from('{"schemaVersion": 2,'), OCI_MANIFEST, /not valid JSON/],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), OCI_MANIFEST, /UTF-8/],
    ['a JSON array', [], OCI_MANIFEST, /object/],
    ['schemaVersion 3', { schemaVersion: 3, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [] }, OCI_MANIFEST, /schemaVersion/],
    ['no schemaVersion', { mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [] }, OCI_MANIFEST, /schemaVersion/],
    ['an unsupported media type', { schemaVersion: 2, mediaType: 'application/vnd.oci.artifact.manifest.v1+json', blobs: [] }, undefined, /unsupported/],
    ['a config that is no descriptor', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: 'x', layers: [] }, OCI_MANIFEST, /config/],
    ['layers missing', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG }, OCI_MANIFEST, /layers/],
    ['a bad layer digest', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [{ mediaType: OCI_LAYER, digest: 'sha256:zz', size: 1 }] }, OCI_MANIFEST, /layers\[0\]\.digest/],
    ['a negative size', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...EMPTY_CONFIG, size: -1 }, layers: [] }, OCI_MANIFEST, /size/],
    ['a fractional size', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...EMPTY_CONFIG, size: 1.5 }, layers: [] }, OCI_MANIFEST, /size/],
    ['a bad descriptor media type', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...EMPTY_CONFIG, mediaType: 'nonsense' }, layers: [] }, OCI_MANIFEST, /mediaType/],
    ['annotations that are not strings', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [], annotations: { a: 1 } }, OCI_MANIFEST, /annotations/],
    ['an index without manifests', { schemaVersion: 2, mediaType: OCI_INDEX }, OCI_INDEX, /manifests/],
    ['Content-Type contradicting mediaType', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [] }, DOCKER_MANIFEST, /does not match/],
    ['schema 1 by body', { schemaVersion: 1, name: 'team/x', tag: 'v1', fsLayers: [] }, 'application/json', /schema 1 manifests are not supported/],
    ['schema 1 by Content-Type', { schemaVersion: 2, name: 'team/x' }, 'application/vnd.docker.distribution.manifest.v1+prettyjws', /schema 1 manifests are not supported/],
    ['100k levels of nesting', Buffer.from(`{"schemaVersion":2,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), OCI_MANIFEST, /nests deeper/],
  ];
  for (const [what, body, contentType, message] of invalid) {
    it(`refuses ${what} with MANIFEST_INVALID`, async () => {
      const error = await expectError(await putManifest(registry.url, 'team/invalid', 'v1', body, contentType), 400, 'MANIFEST_INVALID');
      assert.match(error.message, message);
    });
  }

  it('still answers after the deep-nesting attempt', async () => {
    assert.equal((await fetch(`${registry.url}/v2/`)).status, 200);
  });

  it('GET of an unknown tag or digest is MANIFEST_UNKNOWN', async () => {
    await expectError(await fetch(manifestUrl('team/oci', 'nope')), 404, 'MANIFEST_UNKNOWN');
    await expectError(await fetch(manifestUrl('team/oci', digestOf('nope'))), 404, 'MANIFEST_UNKNOWN');
    await expectError(await fetch(manifestUrl('team/unknown-repo', 'latest')), 404, 'MANIFEST_UNKNOWN');
    const head = await fetch(manifestUrl('team/oci', 'nope'), { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  it('DELETE by tag removes only the tag (202)', async () => {
    const image = buildImage({ seed: 'untag' });
    await pushImage(registry.url, 'team/delete', 'a', image);
    assert.equal((await putManifest(registry.url, 'team/delete', 'b', image.manifest, OCI_MANIFEST)).status, 201);
    const deleted = await fetch(manifestUrl('team/delete', 'a'), { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    await expectError(await fetch(manifestUrl('team/delete', 'a')), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await fetch(manifestUrl('team/delete', 'b'))).status, 200);
    assert.equal((await fetch(manifestUrl('team/delete', image.digest))).status, 200);
    await expectError(await fetch(manifestUrl('team/delete', 'a'), { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });

  it('DELETE by digest removes the manifest and every tag pointing at it (202)', async () => {
    const image = buildImage({ seed: 'delete by digest' });
    await pushImage(registry.url, 'team/delete2', 'one', image);
    assert.equal((await putManifest(registry.url, 'team/delete2', 'two', image.manifest, OCI_MANIFEST)).status, 201);
    const keep = buildImage({ seed: 'keep me' });
    await pushImage(registry.url, 'team/delete2', 'keep', keep);
    assert.equal((await fetch(manifestUrl('team/delete2', image.digest), { method: 'DELETE' })).status, 202);
    await expectError(await fetch(manifestUrl('team/delete2', image.digest)), 404, 'MANIFEST_UNKNOWN');
    await expectError(await fetch(manifestUrl('team/delete2', 'one')), 404, 'MANIFEST_UNKNOWN');
    const tags = (await (await fetch(`${registry.url}/v2/team/delete2/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['keep']);
    await expectError(await fetch(manifestUrl('team/delete2', image.digest), { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });
});

describe('manifest size limit', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ manifestMaxBytes: 2048 });
  });
  after(() => registry.close());

  const oversized = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [], annotations: { pad: 'x'.repeat(3000) } }));

  it('refuses a manifest over the limit with MANIFEST_INVALID and 413', async () => {
    const error = await expectError(await putManifest(registry.url, 'team/big', 'v1', oversized, OCI_MANIFEST), 413, 'MANIFEST_INVALID');
    assert.match(error.message, /2048 bytes/);
  });

  it('refuses an oversized body sent without Content-Length, too', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(oversized.subarray(0, 1500));
        controller.enqueue(oversized.subarray(1500));
        controller.close();
      },
    });
    const response = await fetch(`${registry.url}/v2/team/big/manifests/v1`, {
      method: 'PUT',
      body,
      duplex: 'half',
      headers: { 'Content-Type': OCI_MANIFEST },
    } as RequestInit);
    await expectError(response, 413, 'MANIFEST_INVALID');
  });

  it('accepts a manifest right at the limit', async () => {
    await uploadBlob(registry.url, 'team/big', '{}');
    const base = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_CONFIG, layers: [], annotations: { pad: '' } };
    const padding = 2048 - Buffer.byteLength(JSON.stringify(base));
    const exact = Buffer.from(JSON.stringify({ ...base, annotations: { pad: 'y'.repeat(padding) } }));
    assert.equal(exact.length, 2048);
    assert.equal((await putManifest(registry.url, 'team/big', 'v1', exact, OCI_MANIFEST)).status, 201);
  });
});
