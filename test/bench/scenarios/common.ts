/**
 * Helpers every scenario module shares: a registry client per round, a per-target state
 * cache for untimed setup, and the image pieces (config, layer, manifest) seeds are made of.
 */
import { randomBytes } from 'node:crypto';
import { HttpClient } from '../load.js';
import { RegistryClient, imageManifest, type ManifestBlob } from '../oci.js';
import { smallBlob, type SmallBlob } from '../content.js';
import type { Target, TargetName } from './types.js';

/** Runs `work` with a registry client of `connections` sockets, closing them afterwards. */
export async function withRegistry<T>(
  target: Target,
  connections: number,
  scopes: string[],
  work: (registry: RegistryClient) => Promise<T>,
): Promise<T> {
  const http = new HttpClient(target.url, connections);
  try {
    return await work(new RegistryClient(http, await target.authorize(scopes)));
  } finally {
    http.close();
  }
}

/** Pull and push access to the named repositories, as token scopes. */
export function pushScopes(...repos: string[]): string[] {
  return repos.map((repo) => `repository:${repo}:pull,push`);
}

/** Per-target setup results, computed once. */
export class PerTarget<T> {
  private readonly values = new Map<TargetName, Promise<T>>();

  /** The value for a target, creating it on first use. */
  get(target: Target, create: () => Promise<T>): Promise<T> {
    let value = this.values.get(target.name);
    if (!value) {
      value = create();
      this.values.set(target.name, value);
    }
    return value;
  }
}

/**
 * A population several scenarios share, seeded once per target: `populate` gives it to a
 * scenario's run, `prepare` (a Scenario's prepare) seeds it and returns the seeding's note
 * to the report once.
 */
export function seededOncePerTarget<P>(seed: (target: Target) => Promise<{ population: P; note: string }>): {
  populate(target: Target): Promise<P>;
  prepare(target: Target): Promise<string | void>;
} {
  const populations = new PerTarget<P>();
  const notes = new Map<TargetName, string>();
  const populate = (target: Target): Promise<P> =>
    populations.get(target, async () => {
      const { population, note } = await seed(target);
      notes.set(target.name, note);
      return population;
    });
  const prepare = async (target: Target): Promise<string | void> => {
    await populate(target);
    const note = notes.get(target.name);
    notes.delete(target.name);
    return note;
  };
  return { populate, prepare };
}

/** A minimal image: a unique config, one small layer, and the manifest over them. */
export interface SeedImage {
  config: SmallBlob;
  layer: SmallBlob;
  manifest: ManifestBlob;
}

/** Makes a fresh SeedImage (random layer bytes, so every call is a distinct image). */
export function seedImage(label: string): SeedImage {
  const config = smallBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { bench: label } }, rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = smallBlob(randomBytes(4096));
  return { config, layer, manifest: imageManifest(config, [layer]) };
}

/** Pushes an image's blobs and its manifest under one tag. */
export async function pushSeedImage(registry: RegistryClient, repo: string, image: SeedImage, tag: string): Promise<void> {
  await registry.pushMonolithic(repo, image.config);
  await registry.pushMonolithic(repo, image.layer);
  await registry.putManifest(repo, tag, image.manifest);
}

/** Runs `task(i)` for i in [0, count) on `concurrency` workers until done or past `deadline` (untimed seeding); returns how many ran. */
export async function forEachConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>, deadline = Infinity): Promise<number> {
  let next = 0;
  let done = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count && Date.now() < deadline) {
      try {
        await task(next++);
      } catch (err) {
        failure ??= err;
        return;
      }
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure;
  return done;
}

/** Formats a count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
