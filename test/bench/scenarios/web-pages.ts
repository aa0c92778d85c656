/**
 * Does a web UI page cost the same in a small and in a very large deployment? The issue
 * asks for the repository list page and a tag page with 100 and with 100,000 repositories
 * (and a repository with 100,000 tags). Each target is a whole `npm start` process
 * (registry with token auth, auth service, web UI), so a page's server CPU is everything
 * it caused: the session lookup, the token from the auth service, the browse API calls and
 * the rendering. The population is seeded through the MetadataStore (seed-db.ts) after the
 * image's bytes went through the API once; pages are fetched by one signed-in user who may
 * pull `bench/**` (so the repository list goes through the permission filter, not the
 * admin's everything).
 */
import { BenchError, closedLoop, HttpClient } from '../load.js';
import type { Profile } from '../profile.js';
import { openDatabase, type DatabaseConfig } from '../../../shared/db/index.js';
import { toDate } from '../../../services/registry/metadata/rows.js';
import { RegistryClient } from '../oci.js';
import { count, pushSeedImage, seededOncePerTarget, seedImage } from './common.js';
import { seedRepositoriesInDatabase, seedTagsInDatabase } from './seed-db.js';
import type { Scenario, Target, WebStackInfo } from './types.js';

const SOURCE_REPO = 'bench/web-source';
const TAG_REPO = 'bench/web-tags';
const CONNECTIONS = 8;
/** How many deep positions in the tag list the deep-page row cycles through. */
const DEEP_POSITIONS = 16;
/** Repositories the repository-page row visits on both targets. */
const VISITED = 100;
const USER = { name: 'bench-web', password: 'bench-web-password-1' };

function repoName(i: number): string {
  return `bench/web/r${String(i).padStart(6, '0')}`;
}

function pagedTag(i: number): string {
  return `t${String(i).padStart(7, '0')}`;
}

/** A spread of positions in [0, range) for op `i`, the same on both targets. */
function spread(i: number, range: number): number {
  return (i * 7919 + 13) % range;
}

interface Population {
  repos: number;
  tags: number;
  digest: string;
  /** The signed-in user's session cookie (`name=value`). */
  cookie: string;
  /** Positions deep in the push-date order (`last` values) and the tag the page after each starts with. */
  deep: Array<{ last: string; first: string }>;
}

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

async function adminPost(web: WebStackInfo, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${web.authUrl}/api/v1${path}`, { method: 'POST', headers: { Authorization: basic('admin', web.adminPassword), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new BenchError(`POST ${path}: ${res.status} ${await res.text()}`);
}

/** An admin registry token for pushing the seed image (the realm and service from the registry's challenge). */
async function adminPushToken(web: WebStackInfo, repo: string): Promise<string> {
  const challenge = (await fetch(`${web.registryUrl}/v2/`)).headers.get('www-authenticate') ?? '';
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
  const service = /service="([^"]+)"/.exec(challenge)?.[1];
  if (!realm || !service) throw new BenchError(`the registry's challenge names no token realm: ${challenge}`);
  const url = new URL(realm);
  url.searchParams.set('service', service);
  url.searchParams.set('scope', `repository:${repo}:pull,push`);
  const res = await fetch(url, { headers: { Authorization: basic('admin', web.adminPassword) } });
  if (!res.ok) throw new BenchError(`admin token: ${res.status}`);
  return `Bearer ${((await res.json()) as { token: string }).token}`;
}

/** Signs the bench user in through the sign-in form, as a browser does; returns the session cookie. */
async function signIn(webUrl: string): Promise<string> {
  const http = new HttpClient(webUrl, 1);
  try {
    const form = await http.request({ method: 'GET', path: '/login', expect: [200] });
    const anonymous = /dockyard_session=[A-Za-z0-9_-]+/.exec(form.headers['set-cookie'] ?? '')?.[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body.toString('utf8'))?.[1];
    if (!anonymous || !csrf) throw new BenchError('the sign-in page gave no session cookie or CSRF token');
    const body = new URLSearchParams({ _csrf: csrf, username: USER.name, password: USER.password, next: '/' }).toString();
    const answer = await http.request({ method: 'POST', path: '/login', headers: { cookie: anonymous, 'content-type': 'application/x-www-form-urlencoded' }, body, expect: [303] });
    const cookie = /dockyard_session=[A-Za-z0-9_-]+/.exec(answer.headers['set-cookie'] ?? '')?.[0];
    if (!cookie) throw new BenchError('sign-in set no session cookie');
    return cookie;
  } finally {
    http.close();
  }
}

/** `last` values deep in TAG_REPO's push-date order (between half-way and the end), each with the tag after it. */
async function deepPositions(database: DatabaseConfig, tags: number): Promise<Population['deep']> {
  const db = openDatabase(database);
  try {
    const positions: Population['deep'] = [];
    for (let k = 0; k < DEEP_POSITIONS; k++) {
      const offset = Math.floor(tags / 2) + Math.floor(((tags / 2 - 60) * k) / DEEP_POSITIONS);
      const rows = (await db('tags as t')
        .join('repositories as r', 'r.id', 't.repository_id')
        .where('r.name', TAG_REPO)
        .select('t.name', 't.updated_at')
        .orderBy([{ column: 't.updated_at', order: 'desc' }, { column: 't.name', order: 'desc' }])
        .limit(2)
        .offset(offset)) as Array<{ name: string; updated_at: Date | number | string }>;
      if (rows.length !== 2) throw new BenchError(`${TAG_REPO} has fewer than ${offset + 2} tags`);
      positions.push({ last: `${toDate(rows[0]!.updated_at).getTime()}_${rows[0]!.name}`, first: rows[1]!.name });
    }
    return positions;
  } finally {
    await db.destroy();
  }
}

/** One web UI page per op, with the signed-in user's cookie; `check` verifies the HTML. */
function pageRow(id: string, description: string, path: (p: Population, i: number) => string, check: (html: string, p: Population, i: number) => boolean, shared: Partial<Scenario>, populate: (t: Target) => Promise<Population>): Scenario {
  return {
    ...(shared as Omit<Scenario, 'id' | 'description' | 'round'>),
    id,
    description,
    async round(target) {
      const population = await populate(target);
      const http = new HttpClient(target.url, CONNECTIONS);
      try {
        return await target.measure(() =>
          closedLoop(CONNECTIONS, this.budget, async (i) => {
            const at = path(population, i);
            const reply = await http.request({ method: 'GET', path: at, headers: { cookie: population.cookie }, expect: [200] });
            const html = reply.body.toString('utf8');
            if (!check(html, population, i)) throw new BenchError(`${target.name}: GET ${at} did not show what it should: ${html.slice(0, 300)}`);
            return 0;
          }),
        );
      } finally {
        http.close();
      }
    },
  };
}

/** The web UI's pages on a small and a large deployment. */
export function webPageScenarios(profile: Profile): Scenario[] {
  const { smallRepos, largeRepos, smallTags, largeTags } = profile.webScaling;
  const { populate, prepare } = seededOncePerTarget<Population>(async (target) => {
    const database = target.metadataDatabase;
    const web = target.web;
    if (!database || !web) throw new BenchError(`${target.name} is not a web UI deployment`);
    const large = target.name === 'web-large';
    const repos = large ? largeRepos : smallRepos;
    const tags = large ? largeTags : smallTags;
    const started = Date.now();
    await adminPost(web, '/users', { name: USER.name, password: USER.password });
    await adminPost(web, '/grants', { subject: `user:${USER.name}`, pattern: 'bench/**', actions: 'pull' });
    const image = seedImage('web-pages');
    const http = new HttpClient(web.registryUrl, 1);
    try {
      await pushSeedImage(new RegistryClient(http, await adminPushToken(web, SOURCE_REPO)), SOURCE_REPO, image, 'source');
    } finally {
      http.close();
    }
    await seedRepositoriesInDatabase(database, Array.from({ length: repos }, (_, i) => repoName(i)), image, ['v0']);
    await seedTagsInDatabase(database, TAG_REPO, image, Array.from({ length: tags }, (_, i) => pagedTag(i)));
    const population: Population = { repos, tags, digest: image.manifest.digest, cookie: await signIn(target.url), deep: await deepPositions(database, tags) };
    return { population, note: `seeded ${count(repos)} repositories and one repository of ${count(tags)} tags through the MetadataStore in ${((Date.now() - started) / 1000).toFixed(1)} s` };
  });
  const shared = {
    unit: 'req/s',
    latency: true,
    on: 'web-scaling',
    modes: ['none'],
    warmUp: true,
    budget: { seconds: profile.rateSeconds, maxOps: 5_000_000 },
    prepare,
  } satisfies Partial<Scenario>;
  const sizes = `${count(smallRepos)} vs ${count(largeRepos)} repositories`;
  const tagSizes = `${count(smallTags)} vs ${count(largeTags)} tags`;
  const has = (html: string, text: string) => html.includes(text);

  return [
    pageRow(
      `web-page-repositories-${smallRepos}-vs-${largeRepos}-repos`,
      `the web UI's start page (GET /: the first 50 repositories the user may pull), ${CONNECTIONS} connections: ${sizes}`,
      () => '/',
      (html) => has(html, '<ul class="repos"') && has(html, `/r/${repoName(0)}"`),
      shared,
      populate,
    ),
    pageRow(
      `web-page-search-${smallRepos}-vs-${largeRepos}-repos`,
      `the repository list searched by a name prefix (GET /?q=…, a random repository's name less its last digit), ${CONNECTIONS} connections: ${sizes}`,
      (p, i) => `/?q=${encodeURIComponent(repoName(spread(i, p.repos)).slice(0, -1))}`,
      (html, p, i) => has(html, `/r/${repoName(spread(i, p.repos))}"`),
      shared,
      populate,
    ),
    // The same 100 names on both sides: the session's cached registry token per repository
    // then serves both alike, and the row compares what the registry's size does. A first
    // visit of a repository costs one token grant more, whatever the size (docs/performance.md).
    pageRow(
      `web-page-repository-${smallRepos}-vs-${largeRepos}-repos`,
      `a repository's page (README and tag table), one of the same ${VISITED} names in both, ${CONNECTIONS} connections: ${sizes}`,
      (p, i) => `/r/${repoName(spread(i, Math.min(VISITED, p.repos)))}`,
      (html, p, i) => has(html, `<h1>${repoName(spread(i, Math.min(VISITED, p.repos)))}</h1>`) && has(html, '/-/tags/v0"'),
      shared,
      populate,
    ),
    // A random one of all repositories: on the small side the session soon holds every
    // repository's token, on the large side nearly every page is a first visit (one token
    // grant more). What that costs, apart from the registry's size.
    pageRow(
      `web-page-repository-first-visit-${smallRepos}-vs-${largeRepos}-repos`,
      `a random repository's page (README and tag table) of all of them, ${CONNECTIONS} connections: ${sizes} (on the large side nearly every page is the session's first visit of that repository)`,
      (p, i) => `/r/${repoName(spread(i, p.repos))}`,
      (html, p, i) => has(html, `<h1>${repoName(spread(i, p.repos))}</h1>`) && has(html, '/-/tags/v0"'),
      shared,
      populate,
    ),
    pageRow(
      `web-page-tag-${smallTags}-vs-${largeTags}-tags`,
      `a random tag's page (manifest, config, layers, pull commands) in a repository of ${tagSizes}, ${CONNECTIONS} connections`,
      (p, i) => `/r/${TAG_REPO}/-/tags/${pagedTag(spread(i, p.tags))}`,
      (html, p) => has(html, p.digest),
      shared,
      populate,
    ),
    pageRow(
      `web-page-tags-first-${smallTags}-vs-${largeTags}-tags`,
      `the repository page of a repository of ${tagSizes} (newest 50 pushes), ${CONNECTIONS} connections`,
      () => `/r/${TAG_REPO}`,
      (html) => has(html, 'rel="next"') && (html.match(/\/-\/tags\/t\d{7}"/g) ?? []).length === 50,
      shared,
      populate,
    ),
    pageRow(
      `web-page-tags-deep-${smallTags}-vs-${largeTags}-tags`,
      `a page deep in the tag list (after a position half-way to the end of the push-date order), repository of ${tagSizes}, ${CONNECTIONS} connections`,
      (p, i) => `/r/${TAG_REPO}?last=${encodeURIComponent(p.deep[i % DEEP_POSITIONS]!.last)}`,
      (html, p, i) => has(html, `/-/tags/${p.deep[i % DEEP_POSITIONS]!.first}"`),
      shared,
      populate,
    ),
  ];
}
