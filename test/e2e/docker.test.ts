// docker through a private dockerd (auth none): load, tag, push, remove, pull, and the same
// image id and manifest digest come back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { skopeo, type Tool } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['/usr/sbin/dockerd', 'docker', 'skopeo'], { needsRoot: true });

/** The digest `docker push` reports (`v1: digest: sha256:… size: N`). */
function pushedDigest(output: string): string {
  const match = /digest: (sha256:[0-9a-f]{64})/.exec(output);
  assert.ok(match, `docker push printed no digest:\n${output}`);
  return match[1]!;
}

describe('docker push and pull through dockerd (auth none)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let docker: Dockerd;
  let sk: Tool;
  let imageId: string;
  let digest: string;
  const image = (): string => `${registry.host}/team/docker:v1`;

  before(async () => {
    ws = Workspace.create('docker');
    fixture = await buildFixtureLayout(ws.path('oci'));
    sk = skopeo(ws);
    const archive = ws.path('tiny.tar');
    await sk.ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
    [registry, docker] = await Promise.all([startRegistry(ws), startDockerd(ws)]);
    await docker.ok(['load', '-i', archive]);
    imageId = (await docker.ok(['image', 'inspect', '--format', '{{.Id}}', 'tiny:latest'])).stdout.trim();
  });
  after(() => ws?.dispose());

  it('loads the fixture as an image whose id is its config digest', () => {
    assert.equal(imageId, fixture.tiny.config.digest);
  });

  it('pushes a tagged image; the registry serves the manifest docker reported', async () => {
    await docker.ok(['tag', 'tiny:latest', image()]);
    digest = pushedDigest((await docker.ok(['push', image()])).stdout);
    const raw = await sk.ok(['inspect', '--raw', '--tls-verify=false', `docker://${image()}`]);
    assert.equal(sha256Digest(raw.stdout), digest);
    const config = await sk.ok(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${image()}`]);
    assert.equal(sha256Digest(config.stdout), imageId);
  });

  it('pulls the image back after removing it locally, with the same id and digest', async () => {
    await docker.ok(['rmi', image(), 'tiny:latest']);
    await docker.fails(['image', 'inspect', image()], /no such image/i);
    const pulled = await docker.ok(['pull', image()]);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
    const inspected = JSON.parse((await docker.ok(['image', 'inspect', image()])).stdout) as Array<{ Id: string; RepoDigests: string[] }>;
    assert.equal(inspected[0]?.Id, imageId);
    assert.deepEqual(inspected[0]?.RepoDigests, [`${registry.host}/team/docker@${digest}`]);
  });

  it('pulls by digest', async () => {
    await docker.ok(['rmi', image()]);
    await docker.ok(['pull', `${registry.host}/team/docker@${digest}`]);
    const id = (await docker.ok(['image', 'inspect', '--format', '{{.Id}}', `${registry.host}/team/docker@${digest}`])).stdout.trim();
    assert.equal(id, imageId);
  });
});
