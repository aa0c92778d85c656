// The registry's browse API (/v2/_dockyard/repositories, /v2/<name>/_dockyard/tags and
// /readme) through real tokens from the auth service: a caller learns nothing about a
// repository it may not pull (not its name, tags or README), and may write a README only
// with push on the repository.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { addGrant, addUser, pushImage, pushMultiArch, putReadme, registryToken, startWebStack, type WebStack } from '../support/web-stack.js';

const ALICE = { name: 'alice', password: 'alice-pw-browse' };
const BOB = { name: 'bob', password: 'bob-pw-browse' };

async function get(stack: WebStack, path: string, token: string): Promise<{ status: number; body: Record<string, unknown>; link: string | null; text: string }> {
  const res = await fetch(`${stack.registryUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, link: res.headers.get('link'), text };
}

describe('browse API authorization', () => {
  let stack: WebStack;
  before(async () => {
    stack = await startWebStack();
    await addUser(stack, ALICE.name, ALICE.password);
    await addUser(stack, BOB.name, BOB.password);
    await addGrant(stack, 'user:alice', 'team/*', 'pull,push,delete');
    await addGrant(stack, 'user:bob', 'other/*', 'pull,push');
    await addGrant(stack, 'user:bob', 'team/app', 'pull');
    await addGrant(stack, 'anonymous', 'public/*', 'pull');
    await addGrant(stack, 'user:alice', 'public/*', 'push');
    for (const name of ['team/app', 'team/secret-project', 'team/zeta']) await pushMultiArch(stack, ALICE, name, ['v1', 'latest']);
    await pushMultiArch(stack, BOB, 'other/lib', ['1.0']);
    await pushMultiArch(stack, ALICE, 'public/base', ['3']);
    assert.equal((await putReadme(stack, ALICE, 'team/secret-project', '# Secret plans')).status, 204);
  });
  after(() => stack?.close());

  const list = async (user: typeof ALICE | undefined, query = '') => {
    const token = await registryToken(stack, 'registry:catalog:*', user);
    return get(stack, `/v2/_dockyard/repositories${query}`, token);
  };

  it('lists only the repositories each caller may pull, with a prefix search and paging', async () => {
    assert.deepEqual((await list(ALICE)).body.repositories, ['public/base', 'team/app', 'team/secret-project', 'team/zeta']);
    assert.deepEqual((await list(BOB)).body.repositories, ['other/lib', 'public/base', 'team/app']);
    assert.deepEqual((await list(undefined)).body.repositories, ['public/base']);
    assert.deepEqual((await list(BOB, '?q=team/')).body.repositories, ['team/app']);
    assert.deepEqual((await list(BOB, '?q=team/s')).body.repositories, []);
    const first = await list(ALICE, '?q=team/&n=2');
    assert.deepEqual(first.body.repositories, ['team/app', 'team/secret-project']);
    assert.match(first.link ?? '', /<\/v2\/_dockyard\/repositories\?q=team%2F&last=team%2Fsecret-project&n=2>; rel="next"/);
    assert.deepEqual((await list(ALICE, '?q=team/&n=2&last=team/secret-project')).body.repositories, ['team/zeta']);
  });

  it('tells a caller without pull nothing about the repository: no tags, no README', async () => {
    const token = await registryToken(stack, 'repository:team/secret-project:pull,push,delete', BOB);
    for (const path of ['/v2/team/secret-project/_dockyard/readme', '/v2/team/secret-project/_dockyard/tags', '/v2/team/secret-project/tags/list']) {
      const res = await get(stack, path, token);
      assert.ok(res.status === 401 || res.status === 403, `${path}: ${res.status}`);
      assert.doesNotMatch(res.text, /Secret plans|v1|latest|sha256/);
    }
    // A repository that does not exist answers exactly the same.
    const missing = await get(stack, '/v2/team/nothing-here/_dockyard/readme', await registryToken(stack, 'repository:team/nothing-here:pull', BOB));
    assert.equal(missing.status, (await get(stack, '/v2/team/secret-project/_dockyard/readme', token)).status);
    const anonymous = await get(stack, '/v2/team/secret-project/_dockyard/readme', await registryToken(stack, 'repository:team/secret-project:pull'));
    assert.equal(anonymous.status, 401);
  });

  it('describes tags with push date, size, digest and platforms', async () => {
    const token = await registryToken(stack, 'repository:team/app:pull', BOB);
    const res = await get(stack, '/v2/team/app/_dockyard/tags?n=1', token);
    assert.equal(res.status, 200);
    const [tag] = res.body.tags as Array<Record<string, unknown>>;
    assert.equal(tag!.name, 'latest');
    assert.match(String(tag!.digest), /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(tag!.platforms, ['linux/amd64', 'linux/arm64']);
    // Two platforms: one shared 3000-byte layer counted once, two own layers, two configs.
    assert.ok(Number(tag!.sizeBytes) > 3000 + 2 * 1500 && Number(tag!.sizeBytes) < 3000 + 2 * 1500 + 2 * 1000);
    assert.ok(!Number.isNaN(Date.parse(String(tag!.pushedAt))));
    assert.match(res.link ?? '', /last=latest&n=1/);
  });

  it('pages tags newest push first with sort=pushed, the Link keeping the order', async () => {
    const token = await registryToken(stack, 'repository:team/zeta:pull', ALICE);
    await pushImage(stack, ALICE, 'team/zeta', 'newest', [Buffer.from('newest layer')]);
    const seen: Array<{ name: string; pushedAt: string }> = [];
    let path = '/v2/team/zeta/_dockyard/tags?sort=pushed&n=1';
    for (let i = 0; i < 5 && path; i++) {
      const res = await get(stack, path, token);
      assert.equal(res.status, 200, res.text);
      seen.push(...(res.body.tags as Array<{ name: string; pushedAt: string }>));
      const next = /<([^>]+)>; rel="next"/.exec(res.link ?? '')?.[1];
      if (next) assert.match(next, /[?&]sort=pushed&/);
      path = next ?? '';
    }
    assert.deepEqual(seen.map((t) => t.name).sort(), ['latest', 'newest', 'v1']);
    assert.equal(seen[0]!.name, 'newest');
    for (let i = 1; i < seen.length; i++) assert.ok(Date.parse(seen[i - 1]!.pushedAt) >= Date.parse(seen[i]!.pushedAt), 'newest first');
    assert.equal((await get(stack, '/v2/team/zeta/_dockyard/tags?sort=size', token)).status, 400);
    assert.equal((await get(stack, '/v2/team/zeta/_dockyard/tags?sort=pushed&last=not-a-position', token)).status, 400);
  });

  it("shows a repository's tags newest push first in the web UI, every tag once across its pages", async () => {
    const names = Array.from({ length: 53 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const tag of names) await pushImage(stack, ALICE, 'public/many', tag, [Buffer.from(`layer ${tag}`)]);
    const seen: string[] = [];
    let url: string | undefined = `${stack.webUrl}/r/public/many`;
    for (let pages = 0; url && pages < 5; pages++) {
      const html = await (await fetch(url)).text();
      seen.push(...[...html.matchAll(/<td><a href="\/r\/public\/many\/-\/tags\/(t\d+)">/g)].map((m) => m[1]!));
      const next = /<a rel="next" href="([^"]+)">/.exec(html)?.[1]?.replace(/&amp;/g, '&');
      url = next ? new URL(next, stack.webUrl).toString() : undefined;
    }
    assert.equal(seen.length, names.length, 'each tag once');
    assert.deepEqual([...seen].sort(), names);
    assert.deepEqual(seen.slice(0, 3), ['t52', 't51', 't50'], 'the last pushed first');
  });

  it('reads a README with pull and writes it only with push, as text/markdown', async () => {
    const bobPull = await registryToken(stack, 'repository:team/app:pull,push', BOB);
    assert.equal((await get(stack, '/v2/team/app/_dockyard/readme', bobPull)).body.content, null);
    assert.equal((await putReadme(stack, BOB, 'team/app', '# mine now')).status, 401);
    assert.equal((await putReadme(stack, ALICE, 'team/app', '# App\n\nHello')).status, 204);
    const read = await get(stack, '/v2/team/app/_dockyard/readme', bobPull);
    assert.equal(read.body.content, '# App\n\nHello');
    assert.equal(read.body.updatedBy, 'alice');
    const alice = await registryToken(stack, 'repository:team/app:pull,push', ALICE);
    const plain = await fetch(`${stack.registryUrl}/v2/team/app/_dockyard/readme`, { method: 'PUT', headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'text/plain' }, body: 'x' });
    assert.equal(plain.status, 415);
    const huge = await fetch(`${stack.registryUrl}/v2/team/app/_dockyard/readme`, { method: 'PUT', headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'text/markdown' }, body: 'x'.repeat(70 * 1024) });
    assert.equal(huge.status, 413);
    assert.equal((await putReadme(stack, ALICE, 'team/never-pushed', '# x')).status, 404);
  });

  it('names in lineage answers only the repositories the caller may pull, also through its catalog listing', async () => {
    const base = [randomBytes(500), randomBytes(500)];
    const baseDigest = await pushImage(stack, ALICE, 'public/base', 'os', base);
    await pushImage(stack, ALICE, 'team/zeta', 'on-base', [...base, randomBytes(300)]);
    await pushImage(stack, BOB, 'other/lib', 'on-base', [...base, randomBytes(300)]);
    const dependents = async (user: typeof ALICE | undefined, scope: string) => {
      const token = await registryToken(stack, scope, user);
      const res = await get(stack, `/api/v1/images/dependents?image=${encodeURIComponent(`public/base@${baseDigest}`)}`, token);
      assert.equal(res.status, 200, res.text);
      return (res.body.dependents as Array<{ repository: string }>).map((d) => d.repository).sort();
    };
    // A token for the base alone names no other repository; with the catalog, each caller's own.
    assert.deepEqual(await dependents(ALICE, 'repository:public/base:pull'), []);
    assert.deepEqual(await dependents(ALICE, 'repository:public/base:pull registry:catalog:*'), ['team/zeta']);
    assert.deepEqual(await dependents(BOB, 'repository:public/base:pull registry:catalog:*'), ['other/lib']);
    assert.deepEqual(await dependents(undefined, 'repository:public/base:pull registry:catalog:*'), []);
  });
});
