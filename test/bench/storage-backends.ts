/**
 * `npx tsx test/bench/storage-backends.ts [--storage azure,s3,filesystem] [--rounds N] [--size MiB]`:
 * one Dockyard registry per storage backend, each pushing (POST, one streamed PATCH, PUT
 * with the digest: what docker does) and pulling fresh synthetic blobs of 256 MiB, and the
 * median time of each step. Dockyard only: distribution has no place in a comparison of
 * Dockyard's own drivers. Azure runs on an Azurite this script starts; s3 on the RGW that
 * DOCKYARD_TEST_S3_ENDPOINT (_ACCESSKEY, _SECRETKEY) names, or a private one it starts.
 *
 * Until `npm run bench` has a `--storage` option this is its own entry point; its rows go
 * to docs/storage.md. Figures from a shared 2-core machine vary with its load, which the
 * output states.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { BlobFactory, type SyntheticBlob } from './content.js';
import { HttpClient } from './load.js';
import { RegistryClient } from './oci.js';
import { treePeakRssBytes } from './proc.js';
import { startDockyardRegistry, stopAll } from './servers.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, azureEnvironment, startAzurite, stopAzuriteNow } from '../support/azurite.js';
import { s3Environment, s3TestConfig } from '../support/ceph-rgw.js';

type Backend = 'filesystem' | 's3' | 'azure';
const MiB = 1024 * 1024;

interface Options {
  storage: Backend[];
  rounds: number;
  size: number;
}

function parse(argv: string[]): Options {
  const options: Options = { storage: ['filesystem', 's3', 'azure'], rounds: 3, size: 256 * MiB };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--storage') {
      options.storage = value.split(',') as Backend[];
      for (const s of options.storage) if (!['filesystem', 's3', 'azure'].includes(s)) throw new Error(`unknown storage ${s}`);
    } else if (flag === '--rounds') options.rounds = Math.max(1, Number(value));
    else if (flag === '--size') options.size = Math.max(1, Number(value)) * MiB;
    else throw new Error(`unknown flag ${flag}`);
  }
  return options;
}

/** Environment that points a registry at the backend, and how to release the backend after. */
async function prepare(backend: Backend): Promise<{ env: Record<string, string>; label: string; release: () => void }> {
  if (backend === 'filesystem') return { env: {}, label: 'filesystem (local disk)', release: () => {} };
  if (backend === 's3') {
    const config = await s3TestConfig({ chunkSize: 10 * MiB });
    return { env: s3Environment(config), label: 's3 (Ceph RGW 16.2, 10 MiB parts)', release: () => {} };
  }
  const azurite = await startAzurite();
  const container = `bench-${Date.now().toString(36)}`;
  await new BlobServiceClient(azurite.serviceUrl, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).getContainerClient(container).create();
  const env = azureEnvironment({ accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, container, serviceUrl: azurite.serviceUrl, rootDirectory: '/', redirect: false });
  return { env, label: 'azure (Azurite 3.35, 4 MiB blocks)', release: () => stopAzuriteNow(azurite) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

/** POST, streamed PATCH, PUT: seconds for the PATCH and for the completing PUT. */
async function push(http: HttpClient, repo: string, blob: SyntheticBlob): Promise<{ patch: number; put: number }> {
  const registry = new RegistryClient(http);
  const location = await registry.startUpload(repo);
  let next = '';
  const patch = await timed(async () => {
    const reply = await http.request({ method: 'PATCH', path: location, headers: { 'content-type': 'application/octet-stream' }, body: blob.range(0, blob.size), expect: [202] });
    next = reply.headers.location!;
  });
  const put = await timed(() =>
    http.request({ method: 'PUT', path: `${next}${next.includes('?') ? '&' : '?'}digest=${encodeURIComponent(blob.digest)}`, headers: { 'content-length': 0 }, expect: [201] }),
  );
  return { patch, put };
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const factory = new BlobFactory(options.size, 'storage-backends');
  const rows: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-storage-'));
  try {
    for (const backend of options.storage) {
      const { env, label, release } = await prepare(backend);
      try {
        const server = await startDockyardRegistry(join(dir, backend, 'data'), { name: `dockyard-${backend}`, env });
        const http = new HttpClient(server.url, 1);
        const registry = new RegistryClient(http);
        const patches: number[] = [];
        const puts: number[] = [];
        const pulls: number[] = [];
        const loads: number[] = [];
        for (let round = 0; round < options.rounds; round++) {
          const blob = factory.blob(`${backend}/${Date.now()}/${round}`);
          loads.push(loadavg()[0]);
          const { patch, put } = await push(http, `bench/${backend}`, blob);
          patches.push(patch);
          puts.push(put);
          pulls.push(await timed(() => registry.pullBlob(`bench/${backend}`, blob)));
        }
        const rss = treePeakRssBytes(server.pid) / MiB;
        await stopAll();
        const mib = options.size / MiB;
        const pushSeconds = median(patches.map((p, i) => p + puts[i]));
        rows.push(
          `| ${label} | ${pushSeconds.toFixed(1)} s (${(mib / pushSeconds).toFixed(0)} MiB/s) | ${median(patches).toFixed(1)} s | ${median(puts).toFixed(2)} s | ` +
            `${median(pulls).toFixed(1)} s (${(mib / median(pulls)).toFixed(0)} MiB/s) | ${rss.toFixed(0)} MB | ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
        );
        console.error(`${backend}: done`);
      } finally {
        release();
      }
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Dockyard, ${options.size / MiB} MiB blobs, median of ${options.rounds} rounds, one connection:\n`);
  console.log('| storage | push (PATCH + PUT) | streamed PATCH | completing PUT | pull | registry peak RSS | 1-min load |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

await main();
