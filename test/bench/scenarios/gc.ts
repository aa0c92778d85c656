/**
 * The garbage-collection rows (issue 12, item 6): how long one GC run takes to delete
 * 100,000 unreferenced blobs on SQLite + filesystem, and what it does to pushes that go on
 * meanwhile. One Dockyard registry serves both columns: "no GC" rounds run a push load
 * alone, "during GC" rounds first store the blobs straight into its blob directory
 * (untimed; as a DELETE or a crashed upload leaves them, with a modification time two days
 * back so the grace period is over), then run `gc run` as a separate process, as an admin
 * would, with the same push load running until it exits. Every image pushed during a GC
 * run is pulled afterwards (a GC that ate a pushed blob fails the row).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BenchError, closedLoop } from '../load.js';
import type { Profile } from '../profile.js';
import { REPO_ROOT, serviceArgs } from '../servers.js';
import { count, forEachConcurrently, pushScopes, withRegistry } from './common.js';
import { planImage, pushImage, type PlannedImage } from './image-push.js';
import type { Measured, Scenario, Target } from './types.js';

const SEED_CONCURRENCY = 32;
const TWO_DAYS_MS = 2 * 86_400_000;

/** The registry's data directory (its SQLite file is <data>/registry/registry.sqlite, its blobs under <data>/registry/blobs). */
function dataDirOf(target: Target): string {
  const database = target.metadataDatabase;
  if (!database || database.client !== 'sqlite') throw new BenchError(`${target.name}: the GC rows need a Dockyard registry on SQLite`);
  return dirname(dirname(database.filename));
}

/** Stores `blobs` random blobs of `size` bytes that nothing references; returns their total size. */
async function storeUnreferencedBlobs(dataDir: string, blobs: number, size: number): Promise<number> {
  const old = new Date(Date.now() - TWO_DAYS_MS);
  await forEachConcurrently(blobs, SEED_CONCURRENCY, async () => {
    const bytes = randomBytes(size);
    const hex = createHash('sha256').update(bytes).digest('hex');
    const directory = join(dataDir, 'registry', 'blobs', 'blobs', 'sha256', hex.slice(0, 2), hex);
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'data'), bytes);
    await utimes(join(directory, 'data'), old, old);
  });
  return blobs * size;
}

interface GcRun {
  done: Promise<{ seconds: number; blobs: number; bytes: number }>;
  finished(): boolean;
}

/** Starts `gc run --json` on the registry's data directory, as `npm run admin -- gc run` does. */
function startGc(dataDir: string): GcRun {
  let finished = false;
  const child = spawn(process.execPath, [...serviceArgs('services/registry/lifecycle/cli.ts'), 'gc', 'run', '--json'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, NODE_ENV: 'production', LOG_LEVEL: 'warn', DOCKYARD_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString('utf8')).slice(-2000)));
  const done = new Promise<{ seconds: number; blobs: number; bytes: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      finished = true;
      if (code !== 0) return reject(new BenchError(`gc run exited ${code}: ${err.trim()}`));
      const report = JSON.parse(Buffer.concat(out).toString('utf8')) as { blobs: unknown[]; bytesFreed: number; durationMs: number };
      resolve({ seconds: report.durationMs / 1000, blobs: report.blobs.length, bytes: report.bytesFreed });
    });
  });
  return { done, finished: () => finished };
}

/** GC of many unreferenced blobs, and push latency with and without it. */
export function gcScenarios(profile: Profile): Scenario[] {
  const { blobs, blobSize, clients, idleSeconds } = profile.gc;
  const repos = Array.from({ length: clients }, (_, c) => `bench/gc-client-${c}`);
  return [
    {
      id: `gc-${blobs}-blobs-push-p99`,
      description: `one \`gc run\` deleting ${count(blobs)} unreferenced ${blobSize}-byte blobs on SQLite + filesystem, with ${clients} clients pushing small images (config + 1-2 layers of 32/256 KiB + manifest by tag) until it ends, vs the same pushes for ${idleSeconds} s without GC; every image pushed is pulled back`,
      unit: 'images/s',
      latency: true,
      on: 'gc',
      modes: ['none'],
      budget: { seconds: 600, maxOps: 10_000_000 },
      async round(target, round): Promise<Measured> {
        const busy = target.name === 'dockyard-gc-busy';
        const dataDir = dataDirOf(target);
        let seeded = 0;
        if (busy) seeded = await storeUnreferencedBlobs(dataDir, blobs, blobSize);
        const pushed: PlannedImage[] = [];
        let sequence = 0;
        return withRegistry(target, clients, pushScopes(...repos), async (registry) => {
          const gc = busy ? startGc(dataDir) : undefined;
          const budget = gc ? { ...this.budget, until: gc.finished } : { ...this.budget, seconds: idleSeconds };
          const measured = await target.measure(() =>
            closedLoop(clients, budget, (_, client) => {
              const image = planImage(repos[client]!, `${target.name}-r${round}-i${sequence}`, sequence++);
              pushed.push(image);
              return pushImage(registry, image);
            }),
          );
          const run = gc ? await gc.done : undefined;
          if (run && run.blobs < blobs) throw new BenchError(`gc run deleted ${run.blobs} blobs, fewer than the ${blobs} stored (${seeded} bytes)`);
          await forEachConcurrently(pushed.length, clients, async (i) => {
            const image = pushed[i]!;
            await registry.fetchManifest('GET', image.repo, image.tag, image.manifest.digest);
            for (const blob of image.blobs) await registry.headBlob(image.repo, blob);
          });
          return run ? { ...measured, gc: run } : measured;
        });
      },
    },
  ];
}
