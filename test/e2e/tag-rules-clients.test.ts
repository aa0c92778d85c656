// The release preset against real clients: skopeo, podman and docker each push a production
// version, then try to push other content under the same tag and are refused with the
// registry's message naming the rule (what they print is quoted in docs/lifecycle.md).
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { podman, skopeo, type Tool } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { REPO_ROOT, registryTarget, startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo', 'podman', '/usr/sbin/dockerd', 'docker'], { needsRoot: true });
const skip = gate.skip || (registryTarget() === 'distribution' ? 'tag rules are a Dockyard feature' : false);
// skopeo's log line escapes the quotes (\"), podman and docker print them as they are.
const IMMUTABLE = /denied: tag \\?"1\.0\.0\\?" in prod\/app is immutable by rule \d+ \(immutable prod\/\*\* \*\): it already points at sha256:[0-9a-f]{64}; push a new tag instead/;

describe('tag rules seen by real clients (release preset)', { skip }, () => {
  let ws: Workspace;
  let released: FixtureLayout;
  let other: FixtureLayout;
  let registry: RunningService;
  let sk: Tool;
  const ref = (tag: string): string => `docker://${registry.host}/prod/app:${tag}`;

  before(async () => {
    ws = Workspace.create('tag-rules');
    released = await buildFixtureLayout(ws.path('released'));
    other = await buildFixtureLayout(ws.path('other'), 'other content');
    registry = await startRegistry(ws);
    sk = skopeo(ws);
    await ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', 'rules', 'preset', 'release'], {
      cwd: REPO_ROOT,
      env: { DOCKYARD_DATA_DIR: ws.path('registry-data') },
    });
    await sk.ok(['copy', '--dest-tls-verify=false', released.ref('tiny'), ref('1.0.0')]);
  });
  after(() => ws?.dispose());

  it('skopeo: copying other content to a released version is refused with the rule', async () => {
    await sk.fails(['copy', '--dest-tls-verify=false', other.ref('tiny'), ref('1.0.0')], IMMUTABLE);
    await sk.fails(['copy', '--dest-tls-verify=false', released.ref('tiny'), ref('latest')], /denied: tag \\?"latest\\?" is forbidden in prod\/app by rule \d+/);
  });

  it('podman: pushing other content to a released version is refused with the rule', async () => {
    const pm = podman(ws);
    await pm.ok(['pull', other.ref('tiny')]);
    const id = (await pm.ok(['images', '--format', '{{.ID}}'])).stdout.trim().split('\n')[0]!;
    await pm.fails(['push', '--tls-verify=false', id, ref('1.0.0')], IMMUTABLE);
  });

  it('docker: pushing other content to a released version is refused with the rule', async () => {
    const docker: Dockerd = await startDockerd(ws);
    const archive = ws.path('other.tar');
    await sk.ok(['copy', other.ref('tiny'), `docker-archive:${archive}:other:latest`]);
    await docker.ok(['load', '-i', archive]);
    const target = `${registry.host}/prod/app:1.0.0`;
    await docker.ok(['tag', 'other:latest', target]);
    await docker.fails(['push', target], IMMUTABLE);
  });
});
