// The registry process on azure storage (REGISTRY_STORAGE=azure and the
// REGISTRY_STORAGE_AZURE_* names) against Azurite (started by this file), with blob GETs
// redirected to SAS URLs (REGISTRY_STORAGE_REDIRECT_DISABLE=false): skopeo pushes through
// the registry and pulls the layers from Azurite itself, byte-identical. A second registry
// on the same container with the default (proxy) serves the same blobs itself.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import type { AzureStorageConfig } from '../../shared/config/index.js';
import { azureEnvironment, azureTestConfig, azuriteSuiteGate } from '../support/azurite.js';
import { skopeo, type Tool } from './harness/clients.js';
import { fileDigest, readLayoutImage } from './harness/oci.js';
import { registryTarget, startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo']);
if (await azuriteSuiteGate('skopeo on azure storage')) {
  const skip = gate.skip || (registryTarget() !== 'dockyard' && 'Dockyard only');
  describe('skopeo on azure storage (Azurite), pulling through the SAS redirect', { skip }, () => {
    let ws: Workspace;
    let fixture: FixtureLayout;
    let redirecting: RunningService;
    let proxying: RunningService;
    let config: AzureStorageConfig;
    let sk: Tool;

    before(async () => {
      ws = Workspace.create('azure-redirect');
      fixture = await buildFixtureLayout(ws.path('oci'));
      config = await azureTestConfig({ rootDirectory: '/e2e' });
      redirecting = await startRegistry(ws, { name: 'redirecting', env: azureEnvironment({ ...config, redirect: true }) });
      proxying = await startRegistry(ws, { name: 'proxying', env: azureEnvironment(config) });
      sk = skopeo(ws);
    });
    after(() => ws?.dispose());

    it('pushes through the registry and pulls every blob from Azurite via 307', async () => {
      const ref = `docker://${redirecting.host}/team/tiny:v1`;
      await sk.ok(['copy', '--dest-tls-verify=false', fixture.ref('tiny'), ref]);
      const layer = fixture.tiny.layers[0].digest;
      const answer = await fetch(`${redirecting.url}/v2/team/tiny/blobs/${layer}`, { redirect: 'manual' });
      assert.equal(answer.status, 307);
      const location = new URL(answer.headers.get('location')!);
      assert.equal(location.origin, new URL(config.serviceUrl).origin, 'redirected to Azurite');
      assert.match(location.search, /[?&]sig=/);
      assert.match(location.search, /[?&]sp=r(&|$)/);
      // A Range goes to the store with the client, and the store honours it.
      const ranged = await fetch(location, { headers: { Range: 'bytes=0-9' } });
      assert.equal(ranged.status, 206);
      assert.equal((await ranged.arrayBuffer()).byteLength, 10);

      const pulled = ws.path('pulled');
      await sk.ok(['copy', '--src-tls-verify=false', ref, `oci:${pulled}:v1`]);
      const image = await readLayoutImage(pulled, 'v1');
      assert.equal(image.digest, fixture.tiny.manifest.digest);
      for (const digest of [image.configDigest, ...image.layerDigests]) {
        assert.equal(await fileDigest(image.blobPath(digest)), digest, `pulled blob ${digest} has other bytes`);
      }
    });

    it('a registry on the same container without redirects streams the blob itself, with Range', async () => {
      const layer = fixture.tiny.layers[0];
      // The metadata is per registry here (separate data dirs): push the image there too; the
      // blob bytes are already in the container and stay one copy.
      await sk.ok(['copy', '--dest-tls-verify=false', fixture.ref('tiny'), `docker://${proxying.host}/team/tiny:v1`]);
      const whole = await fetch(`${proxying.url}/v2/team/tiny/blobs/${layer.digest}`, { redirect: 'manual' });
      assert.equal(whole.status, 200);
      const bytes = Buffer.from(await whole.arrayBuffer());
      assert.equal(bytes.length, layer.size);
      const ranged = await fetch(`${proxying.url}/v2/team/tiny/blobs/${layer.digest}`, { headers: { Range: 'bytes=5-14' } });
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(5, 15)));
    });
  });
}
