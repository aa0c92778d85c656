/**
 * Push and pull of one large blob through Dockyard on each object-store backend, Dockyard
 * only: `npx tsx test/bench/object-stores.ts [--storage swift|s3|swift,s3] [--size MiB]
 * [--rounds N]`. The stores are the Ceph RGW of the tests (test/support/ceph-rgw.ts: the
 * DOCKYARD_TEST_S3_* / DOCKYARD_TEST_SWIFT_* one, else a private one started and stopped
 * here), S3 and Swift on the same RGW, so the rows compare the drivers, not the servers.
 * A push is what `docker push` does (POST, one streamed PATCH without a length, PUT); a pull
 * is a GET hashed as it streams. Each round uses a new blob; the row gives the median
 * MiB/s and the registry's peak RSS. Timing is reported here, never asserted in tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { s3Environment, s3TestConfig, swiftEnvironment, swiftTestConfig } from '../support/ceph-rgw.js';
import { BlobFactory } from './content.js';
import { RssSampler } from './proc.js';
import { REPO_ROOT } from './servers.js';

const MiB = 1024 * 1024;
type Storage = 's3' | 'swift';

function parse(argv: string[]): { storages: Storage[]; size: number; rounds: number } {
  const options = { storages: ['swift', 's3'] as Storage[], size: 256 * MiB, rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--storage') options.storages = value.split(',').map((s) => (s === 's3' || s === 'swift' ? s : fail(`unknown storage ${s}`)));
    else if (flag === '--size') options.size = Number(value) * MiB;
    else if (flag === '--rounds') options.rounds = Number(value);
    else fail(`unknown flag ${flag}`);
  }
  return options;
}

function fail(message: string): never {
  console.error(`object-stores bench: ${message}`);
  process.exit(2);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startRegistry(dir: string, storageEnv: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', LOG_LEVEL: 'warn', REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, DOCKYARD_DATA_DIR: dir, REGISTRY_AUTH: 'none', ...storageEnv };
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services/registry/main.ts')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) fail('the registry exited during start');
    const ok = await request(`${url}/v2/`).then((r) => (r.body.dump(), r.statusCode === 200), () => false);
    if (ok) return { url, child };
    await sleep(100);
  }
  fail('the registry did not answer in 60 s');
}

async function push(url: string, blobs: BlobFactory, id: string): Promise<string> {
  const blob = blobs.blob(id);
  const started = await request(`${url}/v2/bench/objects/blobs/uploads/`, { method: 'POST' });
  await started.body.dump();
  const location = String(started.headers.location);
  const patched = await request(new URL(location, url), { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: Readable.from(blob.range(0, blob.size), { objectMode: false }) });
  await patched.body.dump();
  if (patched.statusCode !== 202) fail(`PATCH answered ${patched.statusCode}`);
  const next = new URL(String(patched.headers.location), url);
  next.searchParams.set('digest', blob.digest);
  const done = await request(next, { method: 'PUT' });
  await done.body.dump();
  if (done.statusCode !== 201) fail(`PUT answered ${done.statusCode}`);
  return blob.digest;
}

async function pull(url: string, digest: string, size: number): Promise<void> {
  const response = await request(`${url}/v2/bench/objects/blobs/${digest}`);
  const hash = createHash('sha256');
  let received = 0;
  for await (const chunk of response.body) {
    hash.update(chunk as Buffer);
    received += (chunk as Buffer).length;
  }
  if (response.statusCode !== 200 || received !== size || `sha256:${hash.digest('hex')}` !== digest) fail(`pull of ${digest}: HTTP ${response.statusCode}, ${received} bytes`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(size: number, run: () => Promise<unknown>): Promise<number> {
  const began = process.hrtime.bigint();
  await run();
  return size / MiB / (Number(process.hrtime.bigint() - began) / 1e9);
}

async function main(): Promise<void> {
  const { storages, size, rounds } = parse(process.argv.slice(2));
  const blobs = new BlobFactory(size, `object-stores-${Date.now()}`);
  const rows: string[] = [];
  for (const storage of storages) {
    const env = storage === 'swift' ? swiftEnvironment(await swiftTestConfig({ chunkSize: 20 * MiB })) : s3Environment(await s3TestConfig({ chunkSize: 10 * MiB }));
    const dir = mkdtempSync(join(tmpdir(), `dockyard-bench-${storage}-`));
    const registry = await startRegistry(dir, env);
    try {
      const rss = new RssSampler(registry.child.pid!);
      const pushes: number[] = [];
      const pulls: number[] = [];
      for (let round = 0; round < rounds; round++) {
        let digest = '';
        pushes.push(await timed(size, async () => (digest = await push(registry.url, blobs, `${storage}/${round}`))));
        pulls.push(await timed(size, () => pull(registry.url, digest, size)));
      }
      const peak = rss.stop() / MiB;
      const label = storage === 'swift' ? 'Swift (RGW Swift API, SLO segments of 20 MiB)' : 'S3 (RGW, multipart parts of 10 MiB)';
      rows.push(`| ${label} | ${size / MiB} MiB | ${median(pushes).toFixed(0)} MiB/s | ${median(pulls).toFixed(0)} MiB/s | ${peak.toFixed(0)} MB |`);
      console.error(`${storage}: push ${pushes.map((v) => v.toFixed(0)).join(', ')} MiB/s; pull ${pulls.map((v) => v.toFixed(0)).join(', ')} MiB/s; peak RSS ${peak.toFixed(0)} MB`);
    } finally {
      process.kill(-registry.child.pid!, 'SIGTERM');
      await new Promise((resolve) => registry.child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`| Backend | Blob | Push (median of ${rounds}) | Pull (median of ${rounds}) | Registry peak RSS |\n|---|---|---|---|---|\n${rows.join('\n')}`);
}

await main();
// A private RGW (when the environment names none) is stopped by ceph-rgw.ts at exit.
process.exit(0);
