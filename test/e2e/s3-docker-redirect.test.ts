// docker (through a private dockerd) against a registry on s3 storage with presigned
// redirects on: push through the registry, remove the image, pull it back with every blob
// fetched from the Ceph RGW behind a 307, and the same image id and digest come back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { s3Environment, s3SuiteGate, s3TestConfig } from '../support/ceph-rgw.js';
import { skopeo } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { registryTarget, startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['/usr/sbin/dockerd', 'docker', 'skopeo'], { needsRoot: true });

if (await s3SuiteGate('docker pulling through the S3 redirect')) {
  const skip = gate.skip || (registryTarget() !== 'dockyard' && 'Dockyard only');
  describe('docker push and pull on s3 storage with presigned redirects', { skip }, () => {
    let ws: Workspace;
    let fixture: FixtureLayout;
    let registry: RunningService;
    let docker: Dockerd;
    let endpoint: string;
    const image = (): string => `${registry.host}/team/docker:v1`;

    before(async () => {
      ws = Workspace.create('s3-docker');
      fixture = await buildFixtureLayout(ws.path('oci'));
      const archive = ws.path('tiny.tar');
      await skopeo(ws).ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
      const config = await s3TestConfig({ redirect: true });
      endpoint = config.regionEndpoint!;
      [registry, docker] = await Promise.all([startRegistry(ws, { env: s3Environment(config) }), startDockerd(ws)]);
      await docker.ok(['load', '-i', archive]);
    });
    after(() => ws?.dispose());

    it('pushes, then pulls every layer from the store behind a 307 with the same id and digest', async () => {
      await docker.ok(['tag', 'tiny:latest', image()]);
      const pushed = /digest: (sha256:[0-9a-f]{64})/.exec((await docker.ok(['push', image()])).stdout)?.[1];
      assert.ok(pushed, 'docker push printed a digest');
      // docker compresses the layer itself: its digest comes from the manifest it pushed.
      const manifest = await fetch(`${registry.url}/v2/team/docker/manifests/${pushed}`, {
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      const layer = ((await manifest.json()) as { layers: Array<{ digest: string }> }).layers[0].digest;
      const answer = await fetch(`${registry.url}/v2/team/docker/blobs/${layer}`, { redirect: 'manual' });
      assert.equal(answer.status, 307);
      assert.ok(answer.headers.get('location')!.startsWith(`${endpoint}/`), 'redirected to the RGW');

      await docker.ok(['rmi', image(), 'tiny:latest']);
      const pulled = await docker.ok(['pull', image()]);
      assert.match(pulled.stdout, new RegExp(`Digest: ${pushed}`));
      const id = (await docker.ok(['image', 'inspect', '--format', '{{.Id}}', image()])).stdout.trim();
      assert.equal(id, fixture.tiny.config.digest);
    });
  });
}
