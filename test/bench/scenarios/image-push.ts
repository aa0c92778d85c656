/**
 * Many clients pushing small images at once, the way CI fleets do: per image, each blob is
 * HEADed (absent), uploaded with POST + PUT, then the manifest is PUT by tag. Afterwards
 * every pushed manifest is fetched and every blob HEADed.
 */
import { randomBytes } from 'node:crypto';
import { closedLoop } from '../load.js';
import { smallBlob, type SmallBlob } from '../content.js';
import { imageManifest, type ManifestBlob, type RegistryClient } from '../oci.js';
import type { Profile } from '../profile.js';
import { forEachConcurrently, pushScopes, withRegistry } from './common.js';
import type { Scenario } from './types.js';

export interface PlannedImage {
  repo: string;
  tag: string;
  blobs: SmallBlob[];
  manifest: ManifestBlob;
}

const LAYER_SIZES = [32 * 1024, 256 * 1024];

export function planImage(repo: string, tag: string, seq: number): PlannedImage {
  const layers = LAYER_SIZES.slice(0, 1 + (seq % 2)).map((size) => smallBlob(randomBytes(size)));
  const config = smallBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date(0).toISOString(), config: { Labels: { tag } }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  return { repo, tag, blobs: [config, ...layers], manifest: imageManifest(config, layers) };
}

export async function pushImage(registry: RegistryClient, image: PlannedImage): Promise<number> {
  let bytes = 0;
  for (const blob of image.blobs) {
    await registry.blobMissing(image.repo, blob.digest);
    bytes += await registry.pushMonolithic(image.repo, blob);
  }
  await registry.putManifest(image.repo, image.tag, image.manifest);
  return bytes + image.manifest.bytes.length;
}

/** Concurrent small-image pushes. */
export function imagePushScenarios(profile: Profile): Scenario[] {
  const { clients, imagesPerClient } = profile.imagePush;
  const repos = Array.from({ length: clients }, (_, c) => `bench/push-client-${c}`);
  return [
    {
      id: `push-images-${clients}x${imagesPerClient}`,
      description: `${clients} clients each pushing ${imagesPerClient} images (config + 1-2 layers of 32/256 KiB + manifest by tag), one connection each`,
      unit: 'images/s',
      latency: true,
      on: 'registries',
      modes: ['none'],
      budget: { seconds: 120, maxOps: clients * imagesPerClient, maxOpsPerWorker: imagesPerClient },
      async round(target, round) {
        const plans = repos.map((repo) => Array.from({ length: imagesPerClient }, (_, i) => planImage(repo, `r${round}-i${i}`, i)));
        const pushedPerClient = repos.map(() => 0);
        return withRegistry(target, clients, pushScopes(...repos), async (registry) => {
          const measured = await target.measure(() =>
            closedLoop(clients, this.budget, (_, client) => pushImage(registry, plans[client][pushedPerClient[client]++])),
          );
          const pushed = plans.flatMap((plan, client) => plan.slice(0, pushedPerClient[client]));
          await forEachConcurrently(pushed.length, clients, async (i) => {
            const image = pushed[i];
            await registry.fetchManifest('GET', image.repo, image.tag, image.manifest.digest);
            for (const blob of image.blobs) await registry.headBlob(image.repo, blob);
          });
          return measured;
        });
      },
    },
  ];
}
