// Lineage through real clients: buildah builds two images FROM a base pulled from the
// registry, pushes them, then a rebuilt base moves the base tag; `npm run admin -- images
// stale` (on the registry's database) names both dependents, and `images dependents`
// finds them under the previous base; the registry's webhook (a receiver this test runs)
// gets a `stale` event naming both.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../services/auth/cli.js';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { buildah, type Tool } from './harness/clients.js';
import { registryTarget, startRegistry, type RunningService } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['buildah'], { needsRoot: true });
// Lineage is Dockyard's own index: against CNCF distribution there is nothing to ask.
const skip = registryTarget() === 'dockyard' ? gate.skip : 'lineage is a Dockyard feature (DOCKYARD_E2E_REGISTRY=distribution)';

describe('lineage with buildah (auth none)', { skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let registry: RunningService;
  let bh: Tool;
  let receiver: WebhookReceiver;
  let pushed: { api: string; web: string; fixedBase: string } | undefined;

  before(async () => {
    ws = Workspace.create('lineage');
    fixture = await buildFixtureLayout(ws.path('oci'));
    receiver = await WebhookReceiver.start();
    const endpoints = [{ name: 'ci', url: receiver.url, ignore: { actions: ['pull'] }, ignoredmediatypes: ['application/octet-stream'] }];
    registry = await startRegistry(ws, { env: { REGISTRY_NOTIFICATIONS_ENDPOINTS: JSON.stringify(endpoints) } });
    bh = buildah(ws);
  });
  after(async () => {
    await receiver?.close();
    ws?.dispose();
  });

  async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const env = { DOCKYARD_DATA_DIR: ws.path('registry-data') };
    const code = await runCli(argv, env, { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
    return { code, out, err };
  }

  /** `FROM from`, one COPY of a file holding `content`, commit, push to `target`; returns the pushed manifest digest. */
  async function buildAndPush(from: string, content: string, target: string): Promise<string> {
    const container = (await bh.ok(['from', '--tls-verify=false', '--quiet', from])).stdout.trim();
    const file = ws.path(`${content.replace(/\W/g, '-')}.txt`);
    writeFileSync(file, `${content}\n`);
    await bh.ok(['copy', container, file, `/${content.replace(/\W/g, '-')}.txt`]);
    const image = (await bh.ok(['commit', '--quiet', container])).stdout.trim();
    const digestFile = ws.path(`${content.replace(/\W/g, '-')}.digest`);
    await bh.ok(['push', '--tls-verify=false', '--digestfile', digestFile, image, `docker://${registry.host}/${target}`]);
    return readFileSync(digestFile, 'utf8').trim();
  }

  it('images stale names both images built on the base the tag pointed at before it moved', async () => {
    const base = (await bh.ok(['pull', '--quiet', fixture.ref('tiny')])).stdout.trim();
    await bh.ok(['push', '--tls-verify=false', base, `docker://${registry.host}/base/os:1`]);

    const api = await buildAndPush(`${registry.host}/base/os:1`, 'api service', 'team/api:1');
    const web = await buildAndPush(`${registry.host}/base/os:1`, 'web service', 'team/web:1');
    const before = await admin('images', 'dependents', 'base/os:1', '--json');
    assert.equal(before.code, 0, before.err);
    const dependents = (JSON.parse(before.out) as { dependents: Array<{ repository: string; digest: string; via: string }> }).dependents;
    // Found by layer prefix: buildah pushes the base's layer blobs unchanged under the new ones.
    assert.deepEqual(dependents.map((d) => [d.repository, d.digest, d.via]), [['team/api', api, 'layers'], ['team/web', web, 'layers']]);

    // A rebuilt base (the old one plus a fix) moves the tag.
    const fixedBase = await buildAndPush(fixture.ref('tiny'), 'security fix', 'base/os:1');
    const stale = await admin('images', 'stale', 'base/os:1', '--json');
    assert.equal(stale.code, 0, stale.err);
    const report = JSON.parse(stale.out) as { current: string; stale: Array<{ repository: string; digest: string; tags: string[] }> };
    assert.equal(report.current, fixedBase);
    assert.deepEqual(report.stale.map((s) => [s.repository, s.digest, s.tags]), [['team/api', api, ['1']], ['team/web', web, ['1']]]);
    const text = await admin('images', 'stale', 'base/os:1');
    assert.match(text.out, /2 stale image\(s\)[\s\S]*team\/api:1[\s\S]*team\/web:1/);
    pushed = { api, web, fixedBase };
  });

  it('the tag move sends a stale event naming both dependents', async (t) => {
    if (!pushed) return t.skip('the build above failed');
    const events = await receiver.waitFor((all) => all.some((e) => e.action === 'stale'));
    const stale = events.filter((e) => e.action === 'stale') as unknown as Array<{ target: { repository: string; tag: string; digest: string }; stale: { current: string; dependents: Array<{ repository: string; digest: string; tags: string[] }> } }>;
    assert.equal(stale.length, 1);
    assert.deepEqual([stale[0]!.target.repository, stale[0]!.target.tag, stale[0]!.target.digest, stale[0]!.stale.current], ['base/os', '1', pushed.fixedBase, pushed.fixedBase]);
    assert.deepEqual(stale[0]!.stale.dependents.map((d) => [d.repository, d.digest, d.tags]), [['team/api', pushed.api, ['1']], ['team/web', pushed.web, ['1']]]);
    // Only manifests were asked for: one push event per tag pushed, in push order.
    assert.deepEqual(events.filter((e) => e.action === 'push').map((e) => `${(e.target as { repository: string }).repository}:${(e.target as { tag?: string }).tag}`), ['base/os:1', 'team/api:1', 'team/web:1', 'base/os:1']);
  });
});
