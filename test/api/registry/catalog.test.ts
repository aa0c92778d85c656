// The catalog: repository names in byte order with the same pagination as tags, and the
// registry:catalog:* access it requires.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableAccessController, expectError, startTestRegistry, uploadBlob, type TestRegistry } from './harness.js';

const REPOSITORIES = ['a', 'a-b/c', 'a/b', 'a/b/c', 'a_b', 'team/app', 'team/app2', 'z.z'];

describe('catalog', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ pageMaxEntries: 3 });
    for (const name of [...REPOSITORIES].reverse()) await uploadBlob(registry.url, name, `content of ${name}`);
  });
  after(() => registry.close());

  async function page(query: string): Promise<{ repositories: string[]; link: string | null }> {
    const response = await fetch(`${registry.url}/v2/_catalog${query}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { repositories: string[] };
    return { repositories: body.repositories, link: response.headers.get('link') };
  }

  it('lists repositories in byte order, capped at the page limit, with a Link', async () => {
    const { repositories, link } = await page('');
    assert.deepEqual(repositories, REPOSITORIES.slice(0, 3));
    assert.equal(link, '</v2/_catalog?last=a%2Fb&n=3>; rel="next"');
  });

  it('n alone, last alone, and both', async () => {
    assert.deepEqual((await page('?n=2')).repositories, ['a', 'a-b/c']);
    assert.deepEqual((await page('?last=a_b')).repositories, ['team/app', 'team/app2', 'z.z']);
    const both = await page('?n=2&last=a/b');
    assert.deepEqual(both.repositories, ['a/b/c', 'a_b']);
    assert.equal(both.link, '</v2/_catalog?last=a_b&n=2>; rel="next"');
  });

  it('following Link headers visits every repository once', async () => {
    const seen: string[] = [];
    let next: string | null = '/v2/_catalog?n=2';
    while (next) {
      const response: Response = await fetch(`${registry.url}${next}`);
      seen.push(...((await response.json()) as { repositories: string[] }).repositories);
      next = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1] ?? null;
    }
    assert.deepEqual(seen, REPOSITORIES);
  });

  it('n=0 is empty, a huge n is capped, last past the end is empty', async () => {
    assert.deepEqual(await page('?n=0'), { repositories: [], link: null });
    assert.deepEqual((await page('?n=1000000000')).repositories, REPOSITORIES.slice(0, 3));
    assert.deepEqual(await page('?last=zzz'), { repositories: [], link: null });
  });

  it('an invalid n is PAGINATION_NUMBER_INVALID', async () => {
    await expectError(await fetch(`${registry.url}/v2/_catalog?n=-3`), 400, 'PAGINATION_NUMBER_INVALID');
    await expectError(await fetch(`${registry.url}/v2/_catalog?n=ten`), 400, 'PAGINATION_NUMBER_INVALID');
  });
});

describe('catalog access', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({
      access: new TableAccessController({
        admin: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
        puller: [{ type: 'repository', name: 'team/app', actions: ['pull'] }],
      }),
    });
  });
  after(() => registry.close());

  it('requires registry:catalog:*', async () => {
    const anonymous = await fetch(`${registry.url}/v2/_catalog`);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="test",service="test",scope="registry:catalog:*"');
    await expectError(anonymous, 401, 'UNAUTHORIZED');
    await expectError(await fetch(`${registry.url}/v2/_catalog`, { headers: { 'X-Test-User': 'puller' } }), 401, 'UNAUTHORIZED');
    const admin = await fetch(`${registry.url}/v2/_catalog`, { headers: { 'X-Test-User': 'admin' } });
    assert.equal(admin.status, 200);
    assert.deepEqual(await admin.json(), { repositories: [] });
  });
});
