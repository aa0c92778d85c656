// The migration from registry:2 in docs/operations.md, step by step: CNCF distribution 2.8
// (Debian's docker-registry) runs with Debian's stock config.yml (paths rewritten) and gets
// images pushed with skopeo (OCI image, OCI index, Docker schema 2 image and manifest list,
// a nested name, two tags on one manifest, one image whose layer is then corrupted on disk);
// it is stopped, its store imported with `npm run import`, and Dockyard started with the
// same config.yml serves every image back with the digests distribution had. The corrupt
// blob is reported and not imported, and blobs are hard links of distribution's files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readdirSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { skopeo, type Tool } from './harness/clients.js';
import { fileDigest } from './harness/oci.js';
import { freePort } from './harness/ports.js';
import { httpProbe, startProcess, type ManagedProcess } from './harness/process.js';
import { REPO_ROOT } from './harness/services.js';
import { hasStockConfig, stockConfig, type StockConfig } from './harness/stock-config.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo', 'docker-registry']);
const skip = gate.skip || (!hasStockConfig() && 'no /etc/docker/registry/config.yml (docker-registry package)');

/** What each pushed reference must be served as, by digest. */
interface Pushed {
  ref: string;
  digest: string;
}

function blobFileIn(root: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(root, 'docker', 'registry', 'v2', 'blobs', algorithm, hex.slice(0, 2), hex, 'data');
}

function dockyardBlobFile(root: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(root, 'blobs', algorithm, hex.slice(0, 2), hex, 'data');
}

/** Every blob of an OCI layout a client pulled into hashes to its own name. */
async function assertLayoutIntact(dir: string): Promise<number> {
  const blobs = join(dir, 'blobs', 'sha256');
  let count = 0;
  for (const name of readdirSync(blobs)) {
    assert.equal(await fileDigest(join(blobs, name)), `sha256:${name}`, `pulled blob ${name}`);
    count += 1;
  }
  return count;
}

describe('migration from registry:2: import a distribution store and serve it from the same config.yml', { skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let nested: FixtureLayout;
  let broken: FixtureLayout;
  let config: StockConfig;
  let sk: Tool;
  let creds: string[];
  const pushed: Pushed[] = [];
  let corruptDigest: string;
  let importRun: { code: number | null; stdout: string; stderr: string };
  let dockyard: ManagedProcess;
  let dockyardHost: string;

  async function startDistribution(): Promise<{ process: ManagedProcess; host: string }> {
    const port = await freePort();
    const process = await startProcess(ws, {
      name: 'distribution',
      command: 'docker-registry',
      args: ['serve', config.path],
      env: { REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` },
      ready: httpProbe(`http://127.0.0.1:${port}/v2/`),
    });
    return { process, host: `127.0.0.1:${port}` };
  }

  async function push(source: string, host: string, ref: string, flags: string[] = []): Promise<void> {
    await sk.ok(['copy', ...flags, ...creds.map((c) => c.replace('--creds', '--dest-creds')), '--dest-tls-verify=false', source, `docker://${host}/${ref}`]);
    const raw = await sk.ok(['inspect', '--raw', ...creds, '--tls-verify=false', `docker://${host}/${ref}`]);
    pushed.push({ ref, digest: sha256Digest(raw.stdout) });
  }

  before(async () => {
    ws = Workspace.create('import-registry2');
    fixture = await buildFixtureLayout(ws.path('oci'));
    nested = await buildFixtureLayout(ws.path('oci-nested'), 'nested');
    broken = await buildFixtureLayout(ws.path('oci-broken'), 'broken');
    config = stockConfig(ws);
    sk = skopeo(ws);
    creds = ['--creds', `${config.user}:${config.password}`];

    // registry:2 as it ran before the migration, with images pushed the usual way.
    const distribution = await startDistribution();
    await push(fixture.ref('tiny'), distribution.host, 'team/tiny:v1');
    await push(fixture.ref('tiny'), distribution.host, 'team/tiny:v2');
    await push(fixture.ref('multi'), distribution.host, 'team/multi:v1', ['--all']);
    await push(fixture.ref('tiny'), distribution.host, 'team/docker:v1', ['--format', 'v2s2']);
    await push(fixture.ref('multi'), distribution.host, 'team/dockerlist:v1', ['--all', '--format', 'v2s2']);
    await push(nested.ref('tiny'), distribution.host, 'org/nested/deep:latest');
    await push(broken.ref('tiny'), distribution.host, 'broken/app:v1');
    // Step 1 of the guide: stop registry:2.
    await distribution.process.stop();

    // A disk error in one blob that only broken/app uses (its salt layer).
    corruptDigest = broken.tiny.layers[broken.tiny.layers.length - 1].digest;
    const fd = openSync(blobFileIn(config.root, corruptDigest), 'r+');
    writeSync(fd, Buffer.from('corrupt'), 0, 7, 10);
    closeSync(fd);

    // Step 2: check the configuration; step 3: import the store.
    await ws.ok('npx', ['tsx', 'services/config-check.ts', config.path], { cwd: REPO_ROOT, env: { REGISTRY_HTTP_ADDR: '127.0.0.1:0', AUTH_HTTP_ADDR: '127.0.0.1:0' } });
    importRun = await ws.run('npm', ['run', '-s', 'import', '--', '--config', config.path, 'registry2', config.root], { cwd: REPO_ROOT });

    // Step 4: start Dockyard with the same config.yml.
    const port = await freePort();
    dockyardHost = `127.0.0.1:${port}`;
    dockyard = await startProcess(ws, {
      name: 'dockyard',
      command: 'npm',
      args: ['run', 'registry', '--', '--config', config.path],
      cwd: REPO_ROOT,
      env: { REGISTRY_HTTP_ADDR: dockyardHost },
      ready: httpProbe(`http://${dockyardHost}/v2/`),
    });
  });
  after(() => ws?.dispose());

  it('imports everything but the corrupt blob, and says what it skipped', () => {
    assert.equal(importRun.code, 1, `${importRun.stdout}\n${importRun.stderr}`);
    assert.match(importRun.stdout, /imported 6 repositories \(0 finished by an earlier run\), 6 tags, 9 manifests/);
    assert.match(importRun.stdout, new RegExp(`blob ${corruptDigest}: corrupt`));
    assert.match(importRun.stdout, /tag broken\/app:v1: its manifest sha256:[0-9a-f]{64} was not imported/);
    assert.ok(!existsSync(dockyardBlobFile(config.root, corruptDigest)), 'the corrupt blob must not be in the blob store');
  });

  it('hard-links the blobs instead of copying them (same file system)', () => {
    const layer = fixture.tiny.layers[0].digest;
    assert.equal(statSync(dockyardBlobFile(config.root, layer)).ino, statSync(blobFileIn(config.root, layer)).ino);
    assert.match(importRun.stdout, /blobs: [1-9]\d* hard-linked, 0 copied/);
  });

  it('serves every image with the digest registry:2 had, and every blob intact', async () => {
    for (const { ref, digest } of pushed.filter((p) => !p.ref.startsWith('broken/'))) {
      const raw = await sk.ok(['inspect', '--raw', ...creds, '--tls-verify=false', `docker://${dockyardHost}/${ref}`]);
      assert.equal(sha256Digest(raw.stdout), digest, ref);
      const pulled = join(ws.mkdir('pulled'), createHash('sha256').update(ref).digest('hex').slice(0, 8));
      await sk.ok(['copy', '--all', ...creds.map((c) => c.replace('--creds', '--src-creds')), '--src-tls-verify=false', `docker://${dockyardHost}/${ref}`, `oci:${pulled}:x`]);
      assert.ok((await assertLayoutIntact(pulled)) >= 3, `${ref}: manifest, config and layers pulled`);
    }
  });

  it('does not serve the image whose blob was corrupt', async () => {
    await sk.fails(['inspect', '--raw', ...creds, '--tls-verify=false', `docker://${dockyardHost}/broken/app:v1`], /manifest unknown|not found/i);
  });

  it('sends the header the stock config.yml asks for (X-Content-Type-Options: nosniff)', async () => {
    const response = await fetch(`http://${dockyardHost}/v2/`);
    await response.body?.cancel();
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  it('keeps the htpasswd protection of the config.yml', async () => {
    await sk.fails(['inspect', '--raw', '--tls-verify=false', `docker://${dockyardHost}/team/tiny:v1`], /unauthorized|authentication required/i);
    assert.ok(dockyard.running());
  });

  it('takes new pushes with the stock config.yml and serves them back', async () => {
    await sk.ok(['copy', '--all', ...creds.map((c) => c.replace('--creds', '--dest-creds')), '--dest-tls-verify=false', fixture.ref('multi'), `docker://${dockyardHost}/after/migration:v1`]);
    const raw = await sk.ok(['inspect', '--raw', ...creds, '--tls-verify=false', `docker://${dockyardHost}/after/migration:v1`]);
    assert.equal(sha256Digest(raw.stdout), fixture.multi.index.digest);
  });

  it('finds nothing left to do on a second run, and still reports the corrupt blob', async () => {
    const again = await ws.run('npm', ['run', '-s', 'import', '--', '--config', config.path, 'registry2', config.root], { cwd: REPO_ROOT });
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stdout, /imported 6 repositories \(5 finished by an earlier run\)/);
    assert.match(again.stdout, /blobs: 0 hard-linked, 0 copied/);
    assert.match(again.stdout, new RegExp(`blob ${corruptDigest}: corrupt`));
  });
});
