// The in-code image builder produces a valid OCI layout: every blob matches its digest,
// builds are reproducible, and real tools (umoci, skopeo) read it; the layer tar unpacks
// to the expected files.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, MEDIA_TYPES, type FixtureLayout } from '../fixtures/image.js';
import { skopeo } from './harness/clients.js';
import { fileDigest } from './harness/oci.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['umoci', 'skopeo']);

describe('test image builder', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;

  before(async () => {
    ws = Workspace.create('fixture');
    fixture = await buildFixtureLayout(ws.path('oci'));
  });
  after(() => ws?.dispose());

  it('writes blobs whose names are the sha256 of their bytes', async () => {
    const dir = join(fixture.dir, 'blobs', 'sha256');
    const names = readdirSync(dir);
    assert.ok(names.length >= 7, `expected manifests, configs, layers and an index, got ${names.length} blobs`);
    for (const name of names) assert.equal(await fileDigest(join(dir, name)), `sha256:${name}`);
  });

  it('is reproducible: a second build yields the same digests', async () => {
    const again = await buildFixtureLayout(ws.path('oci-again'));
    assert.equal(again.tiny.manifest.digest, fixture.tiny.manifest.digest);
    assert.equal(again.multi.index.digest, fixture.multi.index.digest);
    const salted = await buildFixtureLayout(ws.path('oci-salted'), 'other');
    assert.notEqual(salted.tiny.manifest.digest, fixture.tiny.manifest.digest);
  });

  it('is read by skopeo, including the platform of each index child', async () => {
    const sk = skopeo(ws);
    const tiny = JSON.parse((await sk.ok(['inspect', fixture.ref('tiny')])).stdout) as { Digest: string; Architecture: string };
    assert.equal(tiny.Digest, fixture.tiny.manifest.digest);
    assert.equal(tiny.Architecture, 'amd64');
    const index = JSON.parse((await sk.ok(['inspect', '--raw', fixture.ref('multi')])).stdout) as {
      mediaType: string;
      manifests: Array<{ digest: string; platform: { architecture: string } }>;
    };
    assert.equal(index.mediaType, MEDIA_TYPES.index);
    assert.deepEqual(
      index.manifests.map((m) => m.platform.architecture),
      fixture.multi.children.map((child) => child.platform.architecture),
    );
  });

  it('unpacks with umoci to the files the layer was built from', async () => {
    const bundle = ws.path('bundle');
    await ws.ok('umoci', ['unpack', '--image', fixture.ref('tiny').slice('oci:'.length), bundle]);
    const rootfs = join(bundle, 'rootfs');
    assert.equal(readFileSync(join(rootfs, 'etc', 'dockyard-fixture'), 'utf8'), 'dockyard fixture linux/amd64\n');
    if (existsSync('/bin/busybox')) {
      assert.ok(lstatSync(join(rootfs, 'bin', 'sh')).isSymbolicLink());
      assert.equal(readlinkSync(join(rootfs, 'bin', 'sh')), 'busybox');
      assert.equal((lstatSync(join(rootfs, 'bin', 'busybox')).mode & 0o777).toString(8), '755');
      assert.equal(await fileDigest(join(rootfs, 'bin', 'busybox')), await fileDigest('/bin/busybox'));
    }
  });
});
