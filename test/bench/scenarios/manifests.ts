/**
 * Manifest writes and reads: PUT of distinct manifests by tag, and GET/HEAD by tag and by
 * digest at 1, 16 and 64 connections (the hot path of every pull). GET bodies are hashed
 * and compared with the digest; HEAD answers must carry it.
 */
import { closedLoop } from '../load.js';
import { imageManifest } from '../oci.js';
import type { Profile } from '../profile.js';
import { PerTarget, forEachConcurrently, pushScopes, pushSeedImage, seedImage, withRegistry, type SeedImage } from './common.js';
import type { Scenario, Target } from './types.js';

const REPO = 'bench/manifests';
const TAG = 'latest';
const CONNECTIONS = [1, 16, 64] as const;

/** Manifest PUT and the GET/HEAD matrix. */
export function manifestScenarios(profile: Profile): Scenario[] {
  const images = new PerTarget<SeedImage>();
  const image = (target: Target) =>
    images.get(target, async () => {
      const seeded = seedImage('manifests');
      await withRegistry(target, 1, pushScopes(REPO), (registry) => pushSeedImage(registry, REPO, seeded, TAG));
      return seeded;
    });

  const put: Scenario = {
    id: 'manifest-put',
    description: 'PUT of distinct image manifests by new tags, one connection, digest header checked, then every tag HEADed',
    unit: 'req/s',
    latency: true,
    on: 'registries',
    modes: ['none'],
    budget: { seconds: profile.rateSeconds, maxOps: 50_000 },
    async prepare(target) {
      await image(target);
    },
    async round(target, round) {
      const { config, layer } = await image(target);
      const manifestFor = (i: number) => imageManifest(config, [layer], { 'org.dockyard.bench.seq': `${round}-${i}` });
      return withRegistry(target, 16, pushScopes(REPO), async (registry) => {
        const measured = await target.measure(() =>
          closedLoop(1, this.budget, async (i) => {
            const manifest = manifestFor(i);
            await registry.putManifest(REPO, `put-${round}-${i}`, manifest);
            return manifest.bytes.length;
          }),
        );
        await forEachConcurrently(measured.ops, 16, async (i) => {
          await registry.fetchManifest('HEAD', REPO, `put-${round}-${i}`, manifestFor(i).digest);
        });
        return measured;
      });
    },
  };

  const read = (method: 'GET' | 'HEAD', by: 'tag' | 'digest', connections: number): Scenario => ({
    id: `manifest-${method.toLowerCase()}-${by}-c${connections}`,
    description: `${method} of an image manifest by ${by} at ${connections} connection${connections > 1 ? 's' : ''}`,
    unit: 'req/s',
    latency: true,
    on: 'registries',
    modes: ['none', 'token'],
    budget: { seconds: profile.rateSeconds, maxOps: 5_000_000 },
    async prepare(target) {
      await image(target);
    },
    async round(target) {
      const { manifest } = await image(target);
      const reference = by === 'tag' ? TAG : manifest.digest;
      return withRegistry(target, connections, [`repository:${REPO}:pull`], (registry) =>
        target.measure(() => closedLoop(connections, this.budget, () => registry.fetchManifest(method, REPO, reference, manifest.digest))),
      );
    },
  });

  const reads: Scenario[] = [];
  for (const method of ['GET', 'HEAD'] as const) {
    for (const by of ['tag', 'digest'] as const) {
      for (const connections of CONNECTIONS) reads.push(read(method, by, connections));
    }
  }
  // The token target: manifest GET with token auth within 10% of Dockyard without auth, in one run.
  const overhead = read('GET', 'digest', 16);
  overhead.id = `auth-overhead-${overhead.id}`;
  overhead.description = `${overhead.description}: Dockyard with token auth vs a second Dockyard registry without auth`;
  overhead.on = 'auth-overhead';
  overhead.modes = ['token'];
  overhead.warmUp = true;
  reads.push(overhead);
  return [put, ...reads];
}
