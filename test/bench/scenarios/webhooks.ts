/**
 * Push throughput with notification endpoints that fail: the image-push workload on a
 * Dockyard registry with a dead and a slow endpoint (webhook-endpoints.ts) and on one
 * without endpoints, rounds alternating (issue 14: within 10%). Each push writes its
 * events to the outbox in its own transaction; delivery runs in the background.
 */
import { closedLoop } from '../load.js';
import type { Profile } from '../profile.js';
import { forEachConcurrently, withRegistry } from './common.js';
import { planImage, pushImage } from './image-push.js';
import type { Scenario } from './types.js';

export function webhookScenarios(profile: Profile): Scenario[] {
  const { clients, imagesPerClient } = profile.imagePush;
  const repos = Array.from({ length: clients }, (_, c) => `bench/webhook-client-${c}`);
  return [
    {
      id: `push-images-webhooks-${clients}x${imagesPerClient}`,
      description: `${clients} clients each pushing ${imagesPerClient} images (as push-images), with a dead and a slow notification endpoint vs none`,
      unit: 'images/s',
      latency: true,
      on: 'webhooks',
      modes: ['none'],
      warmUp: true,
      budget: { seconds: 120, maxOps: clients * imagesPerClient, maxOpsPerWorker: imagesPerClient },
      async round(target, round) {
        const plans = repos.map((repo) => Array.from({ length: imagesPerClient }, (_, i) => planImage(repo, `r${round}-i${i}`, i)));
        const pushedPerClient = repos.map(() => 0);
        return withRegistry(target, clients, [], async (registry) => {
          const measured = await target.measure(() => closedLoop(clients, this.budget, (_, client) => pushImage(registry, plans[client][pushedPerClient[client]++])));
          const pushed = plans.flatMap((plan, client) => plan.slice(0, pushedPerClient[client]));
          await forEachConcurrently(pushed.length, clients, async (i) => {
            const image = pushed[i];
            await registry.fetchManifest('GET', image.repo, image.tag, image.manifest.digest);
          });
          return measured;
        });
      },
    },
  ];
}
