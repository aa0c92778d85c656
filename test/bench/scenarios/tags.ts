/**
 * Tag listing on a repository with many tags: a client walks the whole list page by page
 * (following Link rel="next"), and each walk must return exactly the seeded tags.
 */
import { BenchError, closedLoop } from '../load.js';
import type { Profile } from '../profile.js';
import { PerTarget, count, forEachConcurrently, pushScopes, pushSeedImage, seedImage, withRegistry } from './common.js';
import type { Scenario, Target } from './types.js';

const REPO = 'bench/tags';
const PAGE_SIZES = [100, 1000] as const;

function tagName(i: number): string {
  return `t${String(i).padStart(6, '0')}`;
}

/** Full tag-list walks at n=100 and n=1000. */
export function tagScenarios(profile: Profile): Scenario[] {
  const total = profile.tagListTags;
  const expected = Array.from({ length: total }, (_, i) => tagName(i));
  const seeded = new PerTarget<string>();
  const seededFor = new Set<Target['name']>();
  const seed = (target: Target) =>
    seeded.get(target, async () => {
      const image = seedImage('tags');
      const started = Date.now();
      await withRegistry(target, profile.seedConnections, pushScopes(REPO), async (registry) => {
        await pushSeedImage(registry, REPO, image, tagName(0));
        await forEachConcurrently(total - 1, profile.seedConnections, (i) => registry.putManifest(REPO, tagName(i + 1), image.manifest));
      });
      const seconds = (Date.now() - started) / 1000;
      return `seeded ${count(total)} tags via the API in ${seconds.toFixed(1)} s (${count(Math.round(total / seconds))} tags/s)`;
    });

  const expectedSet = new Set(expected);
  const checkWalk = (tags: string[], target: Target): void => {
    // Same size, no duplicates and nothing foreign means exactly the seeded set.
    if (tags.length !== expected.length || new Set(tags).size !== tags.length || tags.some((tag) => !expectedSet.has(tag))) {
      throw new BenchError(`${target.name}: tag walk of ${REPO} returned ${tags.length} tags, not the ${expected.length} seeded`);
    }
  };

  return PAGE_SIZES.map((n) => ({
    id: `tags-list-n${n}`,
    description: `full walk of a ${count(total)}-tag list with n=${n}, following Link headers, one connection`,
    unit: 'walks/s',
    latency: true,
    on: 'registries',
    modes: ['none'],
    budget: { seconds: profile.rateSeconds * 2, maxOps: 100_000 },
    async prepare(target) {
      const firstUse = !seededFor.has(target.name);
      seededFor.add(target.name);
      const note = await seed(target);
      const walk = await withRegistry(target, 1, [`repository:${REPO}:pull`], (registry) => registry.allTags(REPO, n));
      checkWalk(walk.tags, target);
      const pages = `${walk.pages} page${walk.pages > 1 ? 's' : ''} per walk`;
      return firstUse ? `${note}; ${pages}` : pages;
    },
    async round(target) {
      return withRegistry(target, 1, [`repository:${REPO}:pull`], (registry) =>
        target.measure(() =>
          closedLoop(1, this.budget, async () => {
            const walk = await registry.allTags(REPO, n);
            checkWalk(walk.tags, target);
            return 0;
          }),
        ),
      );
    },
  }));
}
