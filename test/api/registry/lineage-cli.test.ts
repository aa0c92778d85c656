// `npm run admin -- images dependents|stale|bases|history …` through the admin CLI's entry
// function (which runs the registry's CLI in a child process) on a running registry's database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../services/auth/cli.js';
import { buildImage, buildImageOn, pushImage, startTestRegistry, type TestRegistry } from './harness.js';

describe('images CLI', () => {
  let registry: TestRegistry;
  let env: Record<string, string>;
  const base = buildImage({ seed: 'base 1' });
  const fixed = buildImage({ seed: 'base 2' });
  const api = buildImageOn(base, 'api');
  const web = buildImageOn(base, 'web');

  async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(argv, env, { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
    return { code, out, err };
  }

  before(async () => {
    registry = await startTestRegistry();
    env = { DOCKYARD_DATA_DIR: registry.config.dataDir, REGISTRY_DATABASE_URL: `sqlite:${join(registry.config.dataDir, 'registry.sqlite')}` };
    await pushImage(registry.url, 'base/debian', '12', base);
    await pushImage(registry.url, 'team/api', 'latest', api);
    await pushImage(registry.url, 'team/web', 'v1', web);
    await pushImage(registry.url, 'base/debian', '12', fixed);
  });
  after(async () => {
    await registry.close();
  });

  it('images stale REPO:TAG names both images built on the previous base', async () => {
    const json = await admin('images', 'stale', 'base/debian:12', '--json');
    assert.equal(json.code, 0, json.err);
    const report = JSON.parse(json.out) as { previous: string; current: string; stale: Array<{ repository: string; tags: string[] }> };
    assert.deepEqual([report.previous, report.current], [base.digest, fixed.digest]);
    assert.deepEqual(report.stale.map((s) => [s.repository, s.tags]), [['team/api', ['latest']], ['team/web', ['v1']]]);
    const text = await admin('images', 'stale', 'base/debian:12');
    assert.match(text.out, /moved from sha256:[0-9a-f]{64} to sha256:[0-9a-f]{64}: 2 stale image\(s\)/);
    assert.match(text.out, /team\/api:latest/);
    assert.match(text.out, /team\/web:v1/);
  });

  it('images stale --namespace NS lists every moved tag of the namespace with its stale images (CLI and API)', async () => {
    const json = await admin('images', 'stale', '--namespace', 'base', '--json');
    assert.equal(json.code, 0, json.err);
    const reports = (JSON.parse(json.out) as { reports: Array<{ repository: string; tag: string; stale: Array<{ repository: string }> }> }).reports;
    assert.deepEqual(reports.map((r) => [r.repository, r.tag, r.stale.map((s) => s.repository)]), [['base/debian', '12', ['team/api', 'team/web']]]);
    assert.match((await admin('images', 'stale', '--namespace', 'base')).out, /^base\/debian:12 moved from .*: 2 stale image\(s\)\n {2}team\/api:latest/);
    assert.match((await admin('images', 'stale', '--namespace', 'team')).out, /^nothing in team is stale/);
    assert.equal((await admin('images', 'stale', '--namespace', 'base', 'base/debian:12')).code, 2);
    const response = await fetch(`${registry.url}/api/v1/images/stale?namespace=base`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { namespace: string; reports: Array<{ repository: string; stale: unknown[] }> };
    assert.deepEqual([body.namespace, body.reports.map((r) => [r.repository, r.stale.length])], ['base', [['base/debian', 2]]]);
    assert.equal((await fetch(`${registry.url}/api/v1/images/stale?namespace=Bad..Name`)).status, 400);
  });

  it('images dependents, bases and history', async () => {
    const dependents = await admin('images', 'dependents', `base/debian@${base.digest}`, '--json', '--depth', '1');
    assert.equal(dependents.code, 0, dependents.err);
    assert.deepEqual((JSON.parse(dependents.out) as { dependents: Array<{ digest: string }> }).dependents.map((d) => d.digest), [api.digest, web.digest]);
    assert.match((await admin('images', 'dependents', 'base/debian:12')).out, /^0 image\(s\) built on base\/debian:12/);
    assert.match((await admin('images', 'bases', 'team/web:v1')).out, new RegExp(`direct +base/debian@${base.digest} \\(untagged\\)`));
    const history = JSON.parse((await admin('images', 'history', 'base/debian:12', '--json')).out) as Array<{ oldDigest: string | null; newDigest: string }>;
    assert.deepEqual(history.map((m) => [m.oldDigest, m.newDigest]), [[base.digest, fixed.digest], [null, base.digest]]);
  });

  it('usage errors exit 2, unknown images exit 1', async () => {
    const usage = await admin('images', 'descendants', 'base/debian:12');
    assert.equal(usage.code, 2);
    assert.match(usage.err, /unknown images command descendants/);
    assert.equal((await admin('images', 'stale', 'base/debian:12', '--depth', 'x')).code, 2);
    const missing = await admin('images', 'dependents', 'base/debian:13');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /base\/debian:13 is not in the registry/);
    let said = '';
    const elsewhere = await runCli(['images', 'stale', 'base/debian:12'], { DOCKYARD_DATA_DIR: join(registry.config.dataDir, 'nowhere') }, {
      stdin: async () => '',
      out: () => {},
      err: (t) => (said += t),
    });
    assert.equal(elsewhere, 1);
    assert.match(said, /no registry database at .*nowhere/);
    assert.equal(existsSync(join(registry.config.dataDir, 'nowhere')), false, 'nothing created');
  });
});
