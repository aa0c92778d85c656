// skopeo against the registry with auth none: copy up and down with identical digests,
// list tags, delete by digest and see the manifest gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, MEDIA_TYPES, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { skopeo, type Tool } from './harness/clients.js';
import { fileDigest, readLayoutImage, registryGet } from './harness/oci.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo']);

describe('skopeo round trip (auth none)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;
  const repo = (tag: string): string => `docker://${registry.host}/team/tiny:${tag}`;

  before(async () => {
    ws = Workspace.create('skopeo');
    fixture = await buildFixtureLayout(ws.path('oci'));
    registry = await startRegistry(ws);
    sk = skopeo(ws);
  });
  after(() => ws?.dispose());

  it('copies the image up and serves the exact manifest bytes it was given', async () => {
    await sk.ok(['copy', '--dest-tls-verify=false', fixture.ref('tiny'), repo('v1')]);
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', repo('v1')]);
    assert.equal(sha256Digest(raw.stdout), fixture.tiny.manifest.digest);
    const info = JSON.parse((await sk.ok(['inspect', '--tls-verify=false', repo('v1')])).stdout) as { Digest: string; Layers: string[] };
    assert.equal(info.Digest, fixture.tiny.manifest.digest);
    assert.deepEqual(info.Layers, fixture.tiny.layers.map((layer) => layer.digest));

    const direct = await registryGet(`${registry.url}/v2/team/tiny/manifests/v1`, [MEDIA_TYPES.manifest]);
    assert.equal(direct.status, 200);
    assert.equal(direct.digest, fixture.tiny.manifest.digest);
    assert.equal(direct.contentType, MEDIA_TYPES.manifest);
    assert.ok(direct.body.equals(fixture.tiny.manifestBytes), 'GET manifest must return the pushed bytes unchanged');
  });

  it('copies the image down into an OCI layout with the same manifest, config and layer digests', async () => {
    const pulled = ws.path('pulled');
    await sk.ok(['copy', '--src-tls-verify=false', repo('v1'), `oci:${pulled}:v1`]);
    const image = await readLayoutImage(pulled, 'v1');
    assert.equal(image.digest, fixture.tiny.manifest.digest);
    assert.equal(image.configDigest, fixture.tiny.config.digest);
    assert.deepEqual(image.layerDigests, fixture.tiny.layers.map((layer) => layer.digest));
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      assert.equal(await fileDigest(image.blobPath(digest)), digest, `pulled blob ${digest} has other bytes`);
    }
  });

  it('lists every tag of the repository', async () => {
    await sk.ok(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', repo('v1'), repo('v2')]);
    const listed = JSON.parse((await sk.ok(['list-tags', '--tls-verify=false', `docker://${registry.host}/team/tiny`])).stdout) as {
      Repository: string;
      Tags: string[];
    };
    assert.equal(listed.Repository, `${registry.host}/team/tiny`);
    assert.deepEqual([...listed.Tags].sort(), ['v1', 'v2']);
  });

  it('deletes the manifest by digest, after which tag and digest are unknown', async () => {
    await sk.ok(['delete', '--tls-verify=false', repo('v1')]);
    await sk.fails(['inspect', '--raw', '--tls-verify=false', repo('v1')], /manifest unknown|not found/i);
    const byDigest = await registryGet(`${registry.url}/v2/team/tiny/manifests/${fixture.tiny.manifest.digest}`, [MEDIA_TYPES.manifest]);
    assert.equal(byDigest.status, 404);
    assert.deepEqual(byDigest.errorCodes, ['MANIFEST_UNKNOWN']);
  });
});
