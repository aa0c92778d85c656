/**
 * The blob-redirect scenarios, run on each object store that can hand out signed URLs:
 * the registry process with REGISTRY_STORAGE_REDIRECT_DISABLE=false, skopeo pushing
 * through it and pulling the layers from the store itself, byte-identical, and a second
 * registry on the same store with the default (proxy) serving the same blobs itself. A
 * backend says how to point a registry at its store and what its signed URLs look like;
 * each backend's test file is a few lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../../fixtures/image.js';
import { skopeo, type Tool } from './clients.js';
import { fileDigest, readLayoutImage } from './oci.js';
import { registryTarget, startRegistry, type RunningService } from './services.js';
import { requireTools } from './tools.js';
import { Workspace } from './workspace.js';

export interface RedirectStore {
  /** Environment variables that point a registry at the store: redirecting blob GETs, or the default (proxy). */
  env(redirect: boolean): Record<string, string>;
  /** Where redirects must point. */
  origin: string;
}

export interface RedirectBackend {
  /** Storage driver name, as in the suite names ('s3', 'azure'). */
  driver: string;
  /** The store in titles and messages ('the RGW', 'Azurite'), the server it runs on ('Ceph RGW'), its kind of signed URL ('presigned', 'SAS'). */
  store: string;
  server: string;
  signed: string;
  /** What holds the blobs ('bucket', 'container'). */
  holder: string;
  /** Registers a failing (CI) or skipped test and returns false when the store is unavailable. */
  gate(suite: string): Promise<boolean>;
  createStore(): Promise<RedirectStore>;
  /** Asserts that a redirect carries the store's signature. */
  assertSigned(location: URL): void;
}

export async function describeRedirectScenarios(backend: RedirectBackend): Promise<void> {
  const gate = requireTools(['skopeo']);
  if (!(await backend.gate(`skopeo on ${backend.driver} storage`))) return;
  const skip = gate.skip || (registryTarget() !== 'dockyard' && 'Dockyard only');
  describe(`skopeo on ${backend.driver} storage (${backend.server}), pulling through the ${backend.signed} redirect`, { skip }, () => {
    let ws: Workspace;
    let fixture: FixtureLayout;
    let redirecting: RunningService;
    let proxying: RunningService;
    let store: RedirectStore;
    let sk: Tool;

    before(async () => {
      ws = Workspace.create(`${backend.driver}-redirect`);
      fixture = await buildFixtureLayout(ws.path('oci'));
      store = await backend.createStore();
      redirecting = await startRegistry(ws, { name: 'redirecting', env: store.env(true) });
      proxying = await startRegistry(ws, { name: 'proxying', env: store.env(false) });
      sk = skopeo(ws);
    });
    after(() => ws?.dispose());

    it(`pushes through the registry and pulls every blob from ${backend.store} via 307`, async () => {
      const ref = `docker://${redirecting.host}/team/tiny:v1`;
      await sk.ok(['copy', '--dest-tls-verify=false', fixture.ref('tiny'), ref]);
      const layer = fixture.tiny.layers[0].digest;
      const answer = await fetch(`${redirecting.url}/v2/team/tiny/blobs/${layer}`, { redirect: 'manual' });
      assert.equal(answer.status, 307);
      const location = new URL(answer.headers.get('location')!);
      assert.equal(location.origin, new URL(store.origin).origin, `redirected to ${backend.store}`);
      backend.assertSigned(location);
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

    it(`a registry on the same ${backend.holder} without redirects streams the blob itself, with Range`, async () => {
      const layer = fixture.tiny.layers[0];
      // The metadata is per registry here (separate data dirs): push the image there too; the
      // blob bytes are already in the store and stay one copy.
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
