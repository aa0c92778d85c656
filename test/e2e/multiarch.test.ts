// A multi-platform image index pushed with `skopeo copy --all`: the registry serves the index
// bytes unchanged, every child manifest by digest, and clients resolve a platform through it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, MEDIA_TYPES, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { skopeo, type Tool } from './harness/clients.js';
import { fileDigest, readLayoutEntry, readLayoutImage, registryGet } from './harness/oci.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo']);

describe('multi-platform index (auth none)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;
  const repo = (): string => `${registry.host}/team/multi`;

  before(async () => {
    ws = Workspace.create('multiarch');
    fixture = await buildFixtureLayout(ws.path('oci'));
    registry = await startRegistry(ws);
    sk = skopeo(ws);
    await sk.ok(['copy', '--all', '--dest-tls-verify=false', fixture.ref('multi'), `docker://${repo()}:v1`]);
  });
  after(() => ws?.dispose());

  it('returns the index bytes unchanged for the tag', async () => {
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', `docker://${repo()}:v1`]);
    assert.equal(sha256Digest(raw.stdout), fixture.multi.index.digest);
    const direct = await registryGet(`${registry.url}/v2/team/multi/manifests/v1`, [MEDIA_TYPES.index, MEDIA_TYPES.manifest]);
    assert.equal(direct.status, 200);
    assert.equal(direct.contentType, MEDIA_TYPES.index);
    assert.equal(direct.digest, fixture.multi.index.digest);
    assert.ok(direct.body.equals(fixture.multi.indexBytes), 'GET must return the pushed index bytes unchanged');
  });

  it('serves every child manifest by digest', async () => {
    for (const child of fixture.multi.children) {
      const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', `docker://${repo()}@${child.manifest.digest}`]);
      assert.equal(sha256Digest(raw.stdout), child.manifest.digest, `child ${child.platform.architecture}`);
    }
  });

  it('resolves each platform through the index', async () => {
    for (const child of fixture.multi.children) {
      const flags = ['--override-os', child.platform.os, '--override-arch', child.platform.architecture];
      if (child.platform.variant) flags.push('--override-variant', child.platform.variant);
      const info = JSON.parse((await sk.ok(['inspect', ...flags, '--tls-verify=false', `docker://${repo()}:v1`])).stdout) as {
        Digest: string;
        Architecture: string;
        Layers: string[];
      };
      assert.equal(info.Architecture, child.platform.architecture);
      assert.deepEqual(info.Layers, child.layers.map((layer) => layer.digest));
    }
  });

  it('pulls a child by digest with all its blobs intact', async () => {
    const arm64 = fixture.multi.children.find((child) => child.platform.architecture === 'arm64');
    assert.ok(arm64, 'fixture has an arm64 child');
    const pulled = ws.path('pulled');
    await sk.ok(['copy', '--src-tls-verify=false', `docker://${repo()}@${arm64.manifest.digest}`, `oci:${pulled}:arm64`]);
    const image = await readLayoutImage(pulled, 'arm64');
    assert.equal(image.digest, arm64.manifest.digest);
    for (const digest of [image.configDigest, ...image.layerDigests]) assert.equal(await fileDigest(image.blobPath(digest)), digest);
  });

  it('copies the whole index back down unchanged', async () => {
    const pulled = ws.path('pulled-all');
    await sk.ok(['copy', '--all', '--src-tls-verify=false', `docker://${repo()}:v1`, `oci:${pulled}:multi`]);
    const index = await readLayoutEntry(pulled, 'multi');
    assert.equal(index.digest, fixture.multi.index.digest);
    assert.ok(index.bytes.equals(fixture.multi.indexBytes));
    for (const child of fixture.multi.children) {
      for (const blob of [child.manifest, child.config, ...child.layers]) {
        assert.equal(await fileDigest(index.blobPath(blob.digest)), blob.digest, `${child.platform.architecture} blob`);
      }
    }
  });
});
