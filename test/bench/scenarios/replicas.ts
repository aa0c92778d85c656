/**
 * Throughput per replica count (issue 11, item 6): the same reads against one and against
 * two Dockyard registry replicas on PostgreSQL and S3 behind a round-robin proxy
 * (test/bench/replicas.ts): manifest GET by tag at 16 connections and GET of a 16 MiB blob
 * at 4 connections. Bodies are hashed and checked as in the other rows.
 */
import { closedLoop } from '../load.js';
import { BlobFactory, type SyntheticBlob } from '../content.js';
import type { Profile } from '../profile.js';
import { PerTarget, pushScopes, pushSeedImage, seedImage, withRegistry, type SeedImage } from './common.js';
import type { Scenario } from './types.js';

const MiB = 1024 * 1024;
const REPO = 'bench/replicas';
const TAG = 'latest';
const MANIFEST_CONNECTIONS = 16;
const PULL_CONNECTIONS = 4;
const PULL_SIZE = 16 * MiB;

/** The replica rows: manifest GET and blob pull, each on one and on two replicas. */
export function replicaScenarios(profile: Profile): Scenario[] {
  const seeded = new PerTarget<{ image: SeedImage; blob: SyntheticBlob }>();
  let factory: BlobFactory | undefined;
  const seed: Scenario['prepare'] = async (target) => {
    await seeded.get(target, async () => {
      factory ??= new BlobFactory(PULL_SIZE, 'replica-pull');
      const blob = factory.blob('the-one');
      const image = seedImage('replicas');
      await withRegistry(target, 1, pushScopes(REPO), async (registry) => {
        await pushSeedImage(registry, REPO, image, TAG);
        await registry.pushMonolithic(REPO, blob);
      });
      return { image, blob };
    });
  };
  return [
    {
      id: `replicas-manifest-get-tag-c${MANIFEST_CONNECTIONS}`,
      description: `GET of an image manifest by tag at ${MANIFEST_CONNECTIONS} connections through the round-robin proxy, 1 vs 2 registry replicas (PostgreSQL + S3)`,
      unit: 'req/s',
      latency: true,
      on: 'replicas',
      modes: ['none'],
      warmUp: true,
      budget: { seconds: profile.rateSeconds, maxOps: 5_000_000 },
      prepare: seed,
      async round(target) {
        const { image } = await seeded.get(target, () => Promise.reject(new Error('not seeded')));
        return withRegistry(target, MANIFEST_CONNECTIONS, [`repository:${REPO}:pull`], (registry) =>
          target.measure(() => closedLoop(MANIFEST_CONNECTIONS, this.budget, () => registry.fetchManifest('GET', REPO, TAG, image.manifest.digest))),
        );
      },
    },
    {
      id: `replicas-pull-blob-${PULL_SIZE / MiB}m-c${PULL_CONNECTIONS}`,
      description: `GET of one ${PULL_SIZE / MiB} MiB blob at ${PULL_CONNECTIONS} connections through the round-robin proxy, body hashed and checked, 1 vs 2 registry replicas (PostgreSQL + S3)`,
      unit: 'MiB/s',
      latency: true,
      on: 'replicas',
      modes: ['none'],
      warmUp: true,
      budget: { seconds: 2 * profile.rateSeconds, maxOps: 1_000_000 },
      prepare: seed,
      async round(target) {
        const { blob } = await seeded.get(target, () => Promise.reject(new Error('not seeded')));
        return withRegistry(target, PULL_CONNECTIONS, pushScopes(REPO), (registry) =>
          target.measure(() => closedLoop(PULL_CONNECTIONS, this.budget, () => registry.pullBlob(REPO, blob))),
        );
      },
    },
  ];
}
