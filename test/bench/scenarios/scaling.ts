/**
 * Does a lookup slow down as the registry fills up? Manifest GET by tag and a tag-list page
 * on random repositories, first with the small population, then after growing it a
 * hundredfold. The shared image is pushed once through the API into a source repository;
 * each seeded repository then gets its blobs linked, the manifest recorded and its tags
 * set, through the API (mount + manifest PUT per tag, high concurrency, time-limited) or,
 * for Dockyard by default, through its MetadataStore (see seed-db.ts). A target that cannot
 * be seeded in time is skipped for the large rows, and the report says so.
 */
import { BenchError, closedLoop } from '../load.js';
import type { Profile } from '../profile.js';
import { count, forEachConcurrently, pushSeedImage, seedImage, withRegistry, type SeedImage } from './common.js';
import { seedRepositoriesInDatabase } from './seed-db.js';
import { SkipTarget, type Scenario, type Target, type TargetName } from './types.js';

const SOURCE_REPO = 'bench/scale-source';
const CONNECTIONS = 16;

function repoName(i: number): string {
  return `bench/scale/r${String(i).padStart(6, '0')}`;
}

function tagName(i: number): string {
  return `v${i}`;
}

interface Population {
  image: SeedImage;
  repos: number;
}

/** Manifest GET and tag-list page at a small and a large population. */
export function scalingScenarios(profile: Profile, seedThroughDatabase: boolean): Scenario[] {
  const { smallRepos, largeRepos, tagsPerRepo, seedSeconds } = profile.scaling;
  const expectedTags = Array.from({ length: tagsPerRepo }, (_, t) => tagName(t));
  const populations = new Map<TargetName, Promise<Population>>();

  const grow = (target: Target, wanted: number): Promise<string> => {
    const previous = populations.get(target.name);
    let note = '';
    const grown = (async (): Promise<Population> => {
      const population = previous ? await previous : { image: seedImage('scaling'), repos: 0 };
      const have = population.repos;
      if (have >= wanted) {
        note = `registry already held ${count(have)} repositories`;
        return population;
      }
      const started = Date.now();
      const database = seedThroughDatabase ? target.metadataDatabase : undefined;
      // Seeding scopes are per repository, so these rows run without tokens.
      const done = await withRegistry(target, profile.seedConnections, [], async (registry) => {
        if (have === 0) await pushSeedImage(registry, SOURCE_REPO, population.image, 'source');
        if (database) {
          const repos = Array.from({ length: wanted - have }, (_, i) => repoName(have + i));
          await seedRepositoriesInDatabase(database, repos, population.image, expectedTags);
          return repos.length;
        }
        return forEachConcurrently(
          wanted - have,
          profile.seedConnections,
          async (i) => {
            const repo = repoName(have + i);
            await registry.mountOrPush(repo, SOURCE_REPO, population.image.config);
            await registry.mountOrPush(repo, SOURCE_REPO, population.image.layer);
            for (const tag of expectedTags) await registry.putManifest(repo, tag, population.image.manifest);
          },
          started + seedSeconds * 1000,
        );
      });
      const seconds = (Date.now() - started) / 1000;
      note = `seeded ${count(done)} repositories (${count(done * tagsPerRepo)} tags) ${database ? 'through the MetadataStore' : 'via the API'} in ${seconds.toFixed(1)} s`;
      if (have + done < wanted) throw new SkipTarget(`seeding hit its ${seedSeconds} s limit: ${note}, wanted ${count(wanted - have)}`);
      return { image: population.image, repos: have + done };
    })();
    populations.set(target.name, grown);
    return grown.then(() => note);
  };

  const rows: Scenario[] = [];
  for (const repos of [smallRepos, largeRepos]) {
    const label = `${count(repos)} repos, ${count(repos * tagsPerRepo)} tags`;
    rows.push(
      {
        id: `scale-manifest-get-${repos}-repos`,
        description: `manifest GET by tag on random repositories at ${CONNECTIONS} connections; registry holds ${label}`,
        unit: 'req/s',
        latency: true,
        on: 'registries',
        modes: ['none'],
        budget: { seconds: profile.rateSeconds, maxOps: 5_000_000 },
        prepare: (target) => grow(target, repos),
        async round(target) {
          const { image } = await (populations.get(target.name) as Promise<Population>);
          return withRegistry(target, CONNECTIONS, [], (registry) =>
            target.measure(() =>
              closedLoop(CONNECTIONS, this.budget, (i) =>
                registry.fetchManifest('GET', repoName((i * 7919) % repos), tagName(i % tagsPerRepo), image.manifest.digest),
              ),
            ),
          );
        },
      },
      {
        id: `scale-tags-page-${repos * tagsPerRepo}-tags`,
        description: `tag-list page (n=100) of random repositories at ${CONNECTIONS} connections; registry holds ${label}`,
        unit: 'req/s',
        latency: true,
        on: 'registries',
        modes: ['none'],
        budget: { seconds: profile.rateSeconds, maxOps: 5_000_000 },
        prepare: (target) => grow(target, repos),
        async round(target) {
          return withRegistry(target, CONNECTIONS, [], (registry) =>
            target.measure(() =>
              closedLoop(CONNECTIONS, this.budget, async (i) => {
                const repo = repoName((i * 7919) % repos);
                const page = await registry.tagsPage(repo, 100);
                if (page.tags.length !== tagsPerRepo || page.next || !expectedTags.every((t) => page.tags.includes(t))) {
                  throw new BenchError(`${target.name}: tag page of ${repo} is [${page.tags.join(', ')}]`);
                }
                return 0;
              }),
            ),
          );
        },
      },
    );
  }
  return rows;
}
