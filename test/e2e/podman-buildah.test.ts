// podman push/pull and buildah push over plain http (auth none): what the client pushed is
// what the registry serves, and pulling it back yields the same image.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { buildah, podman, skopeo, type Tool } from './harness/clients.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['podman', 'buildah', 'skopeo'], { needsRoot: true });

/** `sha256:<hex>` form of an image id as podman and buildah print it (bare hex). */
function asDigest(id: string): string {
  const trimmed = id.trim();
  return trimmed.startsWith('sha256:') ? trimmed : `sha256:${trimmed}`;
}

describe('podman and buildah (auth none)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;

  before(async () => {
    ws = Workspace.create('podman');
    fixture = await buildFixtureLayout(ws.path('oci'));
    registry = await startRegistry(ws);
    sk = skopeo(ws);
  });
  after(() => ws?.dispose());

  /** Manifest digest and config digest the registry serves for `ref`. */
  async function served(ref: string): Promise<{ manifestDigest: string; configDigest: string }> {
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    const config = await sk.ok(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${ref}`]);
    return { manifestDigest: sha256Digest(raw.stdout), configDigest: sha256Digest(config.stdout) };
  }

  it('podman pushes an image and pulls it back as the same image', async () => {
    const pm = podman(ws, 'push');
    const id = (await pm.ok(['pull', '--quiet', fixture.ref('tiny')])).stdout.trim();
    assert.equal(asDigest(id), fixture.tiny.config.digest);

    const target = `${registry.host}/team/podman:v1`;
    await pm.ok(['push', '--tls-verify=false', id, `docker://${target}`]);
    const pushed = await served(target);
    assert.equal(pushed.configDigest, fixture.tiny.config.digest);

    const fresh = podman(ws, 'pull');
    await fresh.ok(['pull', '--tls-verify=false', target]);
    const inspected = JSON.parse((await fresh.ok(['image', 'inspect', target])).stdout) as Array<{ Id: string; Digest: string }>;
    assert.equal(inspected.length, 1);
    assert.equal(asDigest(inspected[0]!.Id), fixture.tiny.config.digest);
    assert.equal(inspected[0]!.Digest, pushed.manifestDigest);
  });

  it('podman pulls by digest', async () => {
    const target = `${registry.host}/team/podman`;
    const { manifestDigest } = await served(`${target}:v1`);
    const fresh = podman(ws, 'by-digest');
    await fresh.ok(['pull', '--tls-verify=false', `${target}@${manifestDigest}`]);
    const id = (await fresh.ok(['image', 'inspect', '--format', '{{.Id}}', `${target}@${manifestDigest}`])).stdout;
    assert.equal(asDigest(id), fixture.tiny.config.digest);
  });

  it('buildah pushes an image the registry then serves', async () => {
    const bh = buildah(ws);
    const id = (await bh.ok(['pull', '--quiet', fixture.ref('tiny')])).stdout.trim();
    assert.equal(asDigest(id), fixture.tiny.config.digest);
    const target = `${registry.host}/team/buildah:v1`;
    await bh.ok(['push', '--tls-verify=false', id, `docker://${target}`]);
    const pushed = await served(target);
    assert.equal(pushed.configDigest, fixture.tiny.config.digest);
    const info = JSON.parse((await sk.ok(['inspect', '--tls-verify=false', `docker://${target}`])).stdout) as { Layers: string[] };
    assert.equal(info.Layers.length, fixture.tiny.layers.length);
  });
});
