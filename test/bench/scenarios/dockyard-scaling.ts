/**
 * Does a lookup cost the same in a small and in a very large Dockyard registry? The issue
 * asks for manifest GET with 100 vs 100,000 repositories and a tag-list page with 1,000 vs
 * 100,000 tags. distribution is left out: its storage is a directory per tag and link, and
 * seeding (and deleting) 100,000 repositories of it takes hours on this disk. Two Dockyard
 * registries run side by side instead, one per size, so rounds alternate between them like
 * any comparison; both are seeded through the MetadataStore (seed-db.ts) after the image's
 * bytes went through the API once. The report shows CPU per request large/small.
 */
import { BenchError, closedLoop } from '../load.js';
import type { Profile } from '../profile.js';
import { count, pushSeedImage, seededOncePerTarget, seedImage, withRegistry, type SeedImage } from './common.js';
import { seedRepositoriesInDatabase, seedTagsInDatabase } from './seed-db.js';
import type { Scenario } from './types.js';

const SOURCE_REPO = 'bench/dscale-source';
const TAG_REPO = 'bench/dscale-tags';
const CONNECTIONS = 16;
const PAGE = 100;

function repoName(i: number): string {
  return `bench/dscale/r${String(i).padStart(6, '0')}`;
}

/** Zero-padded, so byte order (the order of tag pages) is numeric order. */
function pagedTag(i: number): string {
  return `t${String(i).padStart(7, '0')}`;
}

function repoTag(i: number): string {
  return `v${i}`;
}

/** A spread of positions in [0, range) for op `i`, the same on both targets. */
function spread(i: number, range: number): number {
  return (i * 7919 + 13) % range;
}

interface Population {
  image: SeedImage;
  repos: number;
  tags: number;
}

/** Manifest GET across many repositories and a tag page in a long tag list, small vs large Dockyard. */
export function dockyardScalingScenarios(profile: Profile): Scenario[] {
  const { smallRepos, largeRepos, tagsPerRepo, smallTags, largeTags } = profile.dockyardScaling;
  const repoTags = Array.from({ length: tagsPerRepo }, (_, t) => repoTag(t));
  const { populate, prepare } = seededOncePerTarget<Population>(async (target) => {
    const database = target.metadataDatabase;
    if (!database) throw new BenchError(`${target.name} exposes no metadata database to seed`);
    const large = target.name === 'dockyard-large';
    const population = { image: seedImage('dockyard-scaling'), repos: large ? largeRepos : smallRepos, tags: large ? largeTags : smallTags };
    const started = Date.now();
    await withRegistry(target, 1, [], (registry) => pushSeedImage(registry, SOURCE_REPO, population.image, 'source'));
    const repos = Array.from({ length: population.repos }, (_, i) => repoName(i));
    await seedRepositoriesInDatabase(database, repos, population.image, repoTags);
    await seedTagsInDatabase(database, TAG_REPO, population.image, Array.from({ length: population.tags }, (_, i) => pagedTag(i)));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const note = `seeded ${count(population.repos)} repositories (${count(population.repos * tagsPerRepo)} tags) and one repository of ${count(population.tags)} tags through the MetadataStore in ${seconds} s`;
    return { population, note };
  });

  // Both rows: request rates on the small/large pair, the same population and budget.
  const shared = {
    unit: 'req/s',
    latency: true,
    on: 'dockyard-scaling',
    modes: ['none'],
    warmUp: true,
    budget: { seconds: profile.rateSeconds, maxOps: 5_000_000 },
    prepare,
  } satisfies Partial<Scenario>;

  return [
    {
      id: `scale-dockyard-manifest-get-${smallRepos}-vs-${largeRepos}-repos`,
      description: `manifest GET by tag on random repositories at ${CONNECTIONS} connections: a Dockyard holding ${count(smallRepos)} repositories vs one holding ${count(largeRepos)} (${tagsPerRepo} tags each)`,
      ...shared,
      async round(target) {
        const { image, repos } = await populate(target);
        return withRegistry(target, CONNECTIONS, [], (registry) =>
          target.measure(() =>
            closedLoop(CONNECTIONS, this.budget, (i) => registry.fetchManifest('GET', repoName(spread(i, repos)), repoTag(i % tagsPerRepo), image.manifest.digest)),
          ),
        );
      },
    },
    {
      id: `scale-dockyard-tags-page-${smallTags}-vs-${largeTags}-tags`,
      description: `one tag-list page (n=${PAGE}) after a random \`last\` in one repository at ${CONNECTIONS} connections: ${count(smallTags)} tags vs ${count(largeTags)} tags (each page checked)`,
      ...shared,
      async round(target) {
        const { tags } = await populate(target);
        return withRegistry(target, CONNECTIONS, [], (registry) =>
          target.measure(() =>
            closedLoop(CONNECTIONS, this.budget, async (i) => {
              const after = spread(i, tags - PAGE - 1);
              const page = await registry.tagsPage(TAG_REPO, PAGE, pagedTag(after));
              const expected = Array.from({ length: PAGE }, (_, k) => pagedTag(after + 1 + k));
              if (page.tags.length !== PAGE || page.tags.some((tag, k) => tag !== expected[k])) {
                throw new BenchError(`${target.name}: page after ${pagedTag(after)} is [${page.tags.slice(0, 3).join(', ')}, …] (${page.tags.length} tags)`);
              }
              return 0;
            }),
          ),
        );
      },
    },
    {
      id: `scale-dockyard-browse-repositories-${smallRepos}-vs-${largeRepos}-repos`,
      description: `the web UI's repository list: one browse API page (n=50) of names starting with a random prefix, at ${CONNECTIONS} connections: ${count(smallRepos)} vs ${count(largeRepos)} repositories (each page checked)`,
      ...shared,
      async round(target) {
        const { repos } = await populate(target);
        return withRegistry(target, CONNECTIONS, [], (registry) =>
          target.measure(() =>
            closedLoop(CONNECTIONS, this.budget, async (i) => {
              const first = spread(i, repos);
              const prefix = repoName(first).slice(0, -1);
              const page = await registry.getJson<{ repositories: string[] }>(`/v2/_dockyard/repositories?n=50&q=${encodeURIComponent(prefix)}`);
              if (!page.repositories.includes(repoName(first)) || page.repositories.some((r) => !r.startsWith(prefix))) {
                throw new BenchError(`${target.name}: search ${prefix} answered [${page.repositories.slice(0, 3).join(', ')}, …]`);
              }
              return 0;
            }),
          ),
        );
      },
    },
    {
      id: `scale-dockyard-browse-tags-${smallTags}-vs-${largeTags}-tags`,
      description: `the web UI's tag table: one browse API tags page (n=50: push date, size, platforms) after a random \`last\` at ${CONNECTIONS} connections: ${count(smallTags)} vs ${count(largeTags)} tags in the repository`,
      ...shared,
      async round(target) {
        const { tags } = await populate(target);
        return withRegistry(target, CONNECTIONS, [], (registry) =>
          target.measure(() =>
            closedLoop(CONNECTIONS, this.budget, async (i) => {
              const after = spread(i, tags - 51);
              const page = await registry.getJson<{ tags: Array<{ name: string; sizeBytes: number }> }>(`/v2/${TAG_REPO}/_dockyard/tags?n=50&last=${pagedTag(after)}`);
              if (page.tags.length !== 50 || page.tags[0]!.name !== pagedTag(after + 1) || !(page.tags[0]!.sizeBytes > 0)) {
                throw new BenchError(`${target.name}: browse tags after ${pagedTag(after)}: ${page.tags.length} tags, first ${page.tags[0]?.name}`);
              }
              return 0;
            }),
          ),
        );
      },
    },
  ];
}
