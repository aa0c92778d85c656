/**
 * Blob read paths: streaming a large blob (hashed on arrival) and HEAD on a blob from many
 * connections (what clients do before every upload and mount).
 */
import { closedLoop } from '../load.js';
import { BlobFactory, type SyntheticBlob } from '../content.js';
import type { Profile } from '../profile.js';
import { PerTarget, pushScopes, withRegistry } from './common.js';
import type { Scenario, Target } from './types.js';

const MiB = 1024 * 1024;
const HEAD_CONNECTIONS = 16;

/** Large blob pull and concurrent blob HEAD. */
export function blobPullScenarios(profile: Profile): Scenario[] {
  const repo = 'bench/pull';
  let blob: SyntheticBlob | undefined;
  const pushed = new PerTarget<SyntheticBlob>();
  const ensurePushed = (target: Target) =>
    pushed.get(target, async () => {
      blob ??= new BlobFactory(profile.pull.size, 'blob-pull').blob('the-one');
      const theBlob = blob;
      await withRegistry(target, 1, pushScopes(repo), (registry) => registry.pushMonolithic(repo, theBlob));
      return theBlob;
    });
  return [
    {
      id: `pull-blob-${profile.pull.size / MiB}m`,
      description: `GET of one ${profile.pull.size / MiB} MiB blob, body hashed and checked, one connection`,
      unit: 'MiB/s',
      latency: false,
      on: 'registries',
      modes: ['none'],
      budget: { seconds: profile.largeBlob.seconds, maxOps: profile.pull.count },
      async prepare(target) {
        await ensurePushed(target);
      },
      async round(target) {
        const theBlob = await ensurePushed(target);
        return withRegistry(target, 1, pushScopes(repo), (registry) =>
          target.measure(() => closedLoop(1, this.budget, () => registry.pullBlob(repo, theBlob))),
        );
      },
    },
    {
      id: `head-blob-c${HEAD_CONNECTIONS}`,
      description: `HEAD of a blob at ${HEAD_CONNECTIONS} connections, Content-Length and Docker-Content-Digest checked`,
      unit: 'req/s',
      latency: true,
      on: 'registries',
      modes: ['none'],
      budget: { seconds: profile.rateSeconds, maxOps: 1_000_000 },
      async prepare(target) {
        await ensurePushed(target);
      },
      async round(target) {
        const theBlob = await ensurePushed(target);
        return withRegistry(target, HEAD_CONNECTIONS, pushScopes(repo), (registry) =>
          target.measure(() =>
            closedLoop(HEAD_CONNECTIONS, this.budget, async () => {
              await registry.headBlob(repo, theBlob);
              return 0;
            }),
          ),
        );
      },
    },
  ];
}
