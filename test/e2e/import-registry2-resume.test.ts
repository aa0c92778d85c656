// The import of a registry:2 store survives SIGKILL: distribution 2.8 gets 30 small
// repositories (pushed over HTTP), the import is stopped and SIGKILLed after a few of them
// are done, and running the same command again finishes the job: it skips the finished
// repositories (progress record), reuses the blobs already in place, and Dockyard then
// serves every tag with distribution's digest and every blob with intact bytes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { freePort } from './harness/ports.js';
import { httpProbe, startProcess } from './harness/process.js';
import { REPO_ROOT } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['docker-registry']);
const REPOSITORIES = 30;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Pushes one blob the way clients do (POST, then PUT with the digest). */
async function pushBlob(url: string, name: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await start.body?.cancel();
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location')!, url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  await put.body?.cancel();
  assert.equal(put.status, 201);
  return digest;
}

/** An image of one random layer; returns its manifest digest and blob digests. */
async function pushImage(url: string, name: string, tag: string): Promise<{ manifest: string; blobs: string[] }> {
  const layer = randomBytes(32 * 1024);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const layerDigest = await pushBlob(url, name, layer);
  const configDigest = await pushBlob(url, name, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }),
  );
  const put = await fetch(`${url}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: manifest });
  await put.body?.cancel();
  assert.equal(put.status, 201);
  return { manifest: sha256(manifest), blobs: [layerDigest, configDigest] };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the import; `onLine` sees each progress line (stderr) as it arrives. */
function startImport(ws: Workspace, root: string, onLine: (line: string, child: ChildProcess) => void = () => undefined): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/registry/import/cli.ts', 'registry2', root], {
    cwd: REPO_ROOT,
    env: { ...process.env, DOCKYARD_DATA_DIR: ws.path('dockyard') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line, child);
  });
  const done = new Promise<Finished>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

describe('import of a registry:2 store after SIGKILL', { skip: gate.skip }, () => {
  let ws: Workspace;
  let root: string;
  const images = new Map<string, { manifest: string; blobs: string[] }>();
  let killed: Finished;
  let rerun: Finished;
  let dockyardUrl: string;

  before(async () => {
    ws = Workspace.create('import-resume');
    root = ws.mkdir('registry2');
    const port = await freePort();
    const config = ws.path('distribution.yml');
    writeFileSync(config, `version: 0.1\nstorage: { filesystem: { rootdirectory: ${root} } }\nhttp: { addr: 127.0.0.1:${port} }\n`);
    const distribution = await startProcess(ws, { name: 'distribution', command: 'docker-registry', args: ['serve', config], ready: httpProbe(`http://127.0.0.1:${port}/v2/`) });
    for (let i = 0; i < REPOSITORIES; i++) {
      const name = `team/app${String(i).padStart(2, '0')}`;
      images.set(name, await pushImage(`http://127.0.0.1:${port}`, name, 'v1'));
    }
    await distribution.stop();

    // Frozen right after its third repository is done, then killed: no chance to finish.
    let finishedRepositories = 0;
    const first = startImport(ws, root, (line, child) => {
      if (line.startsWith('repository ') && ++finishedRepositories === 3) {
        child.kill('SIGSTOP');
        child.kill('SIGKILL');
      }
    });
    killed = await first.done;
    rerun = await startImport(ws, root).done;

    const registryPort = await freePort();
    dockyardUrl = `http://127.0.0.1:${registryPort}`;
    await startProcess(ws, {
      name: 'dockyard',
      command: process.execPath,
      args: ['--import', 'tsx', 'services/registry/main.ts'],
      cwd: REPO_ROOT,
      env: { DOCKYARD_DATA_DIR: ws.path('dockyard'), REGISTRY_HTTP_ADDR: `127.0.0.1:${registryPort}`, REGISTRY_AUTH: 'none' },
      ready: httpProbe(`${dockyardUrl}/v2/`),
    });
  });
  after(() => ws?.dispose());

  it('was killed part way', () => {
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.doesNotMatch(killed.stdout, /imported/, 'the first run must not have finished');
  });

  it('finishes on the second run, skipping what the first one did', () => {
    assert.equal(rerun.code, 0, `${rerun.stdout}\n${rerun.stderr}`);
    const resumed = /imported (\d+) repositories \((\d+) finished by an earlier run\)/.exec(rerun.stdout);
    assert.ok(resumed, rerun.stdout);
    assert.equal(Number(resumed[1]), REPOSITORIES);
    assert.ok(Number(resumed[2]) >= 3, `at least the 3 repositories done before the kill are skipped: ${rerun.stdout}`);
    assert.ok(Number(resumed[2]) < REPOSITORIES, rerun.stdout);
    assert.match(rerun.stdout, /skipped: 0/);
  });

  it('serves every tag with distribution\'s digest and every blob intact', async () => {
    for (const [name, image] of images) {
      const manifest = await fetch(`${dockyardUrl}/v2/${name}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(manifest.status, 200, name);
      assert.equal(sha256(Buffer.from(await manifest.arrayBuffer())), image.manifest, name);
      for (const digest of image.blobs) {
        const blob = await fetch(`${dockyardUrl}/v2/${name}/blobs/${digest}`);
        assert.equal(blob.status, 200, `${name} ${digest}`);
        assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), digest);
      }
    }
  });
});
