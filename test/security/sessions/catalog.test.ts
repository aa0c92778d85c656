// Issue 10.8: `/v2/_catalog` for everyone, listing exactly what the caller may pull, end to
// end: the real token endpoint decides the patterns (exact names, `/*`, `/**`, `${user}`,
// anonymous grants), the real registry lists through them, paged with `n`, `last` and Link.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { ADMIN_PASSWORD, adminApi, createUser, getToken, ISSUER, SERVICE } from '../../api/auth/harness.js';
import { startTokenStack, type TokenStack } from '../services.js';
import { accessOf, expectChallenge, tokenFor, uploadWith, withToken } from './client.js';

const REPOSITORIES = [
  'carol/tool', 'dave/tool', 'deep/x', 'deep/x/y/z', 'proj/a', 'proj/a/b', 'proj/b', 'public/lib', 'public/lib/sub',
  'secret/x', 'team/app', 'team/app/sub', 'team/other',
];
const CAROL_SEES = ['carol/tool', 'deep/x', 'deep/x/y/z', 'proj/a', 'proj/b', 'public/lib', 'public/lib/sub', 'team/app'];

describe('the catalog lists what the caller may pull', () => {
  let stack: TokenStack;
  let url: string;
  let anonymousGrant: string;
  before(async () => {
    stack = await startTokenStack();
    url = stack.registry.url;
    await createUser(stack.auth, 'carol', 'carol-password', [['team/app', 'pull'], ['proj/*', 'pull,push'], ['deep/**', 'pull'], ['secret/x', 'push']]);
    await createUser(stack.auth, 'dave', 'dave-password');
    assert.equal((await adminApi(stack.auth, 'POST', '/grants', { subject: 'authenticated', pattern: '${user}/*', actions: 'pull' })).status, 201);
    const anonymous = await adminApi(stack.auth, 'POST', '/grants', { subject: 'anonymous', pattern: 'public/**', actions: 'pull' });
    assert.equal(anonymous.status, 201);
    anonymousGrant = String(anonymous.body.id);
    const admin = await tokenFor(stack.auth, 'admin', ADMIN_PASSWORD, REPOSITORIES.map((name) => `repository:${name}:pull,push`));
    for (const name of REPOSITORIES) await uploadWith(url, admin, name, Buffer.from(`content of ${name}`));
  });
  after(() => stack?.close());

  async function catalogOf(token: string, query = ''): Promise<{ repositories: string[]; link: string | null }> {
    const response = await withToken(`${url}/v2/_catalog${query}`, token);
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return { repositories: (JSON.parse(text) as { repositories: string[] }).repositories, link: response.headers.get('link') };
  }

  it('a user sees exact grants, `/*` one level only, `/**` every depth, `${user}/*` and anonymous grants; nothing push-only', async () => {
    const token = await tokenFor(stack.auth, 'carol', 'carol-password', ['registry:catalog:*']);
    assert.deepEqual(accessOf(token), [{ type: 'registry', name: 'catalog', actions: ['list'] }]);
    assert.deepEqual(decodeJwt(token).dockyard_catalog, ['carol/*', 'deep/**', 'proj/*', 'public/**', 'team/app']);
    assert.deepEqual((await catalogOf(token)).repositories, CAROL_SEES);
  });

  it('pages with n and last follow the Link header across pattern boundaries and add up to the whole list', async () => {
    const token = await tokenFor(stack.auth, 'carol', 'carol-password', ['registry:catalog:*']);
    for (const n of [1, 2, 3]) {
      const seen: string[] = [];
      let next: string | null = `?n=${n}`;
      while (next !== null) {
        const page = await catalogOf(token, next);
        assert.ok(page.repositories.length <= n);
        seen.push(...page.repositories);
        next = page.link === null ? null : /^<\/v2\/_catalog(\?[^>]+)>; rel="next"$/.exec(page.link)![1]!;
      }
      assert.deepEqual(seen, CAROL_SEES, `n=${n}`);
    }
    assert.deepEqual((await catalogOf(token, '?n=2&last=deep/x/y/z')).repositories, ['proj/a', 'proj/b']);
  });

  it('another user sees only its own namespace and the anonymous grants', async () => {
    const token = await tokenFor(stack.auth, 'dave', 'dave-password', ['registry:catalog:*']);
    assert.deepEqual((await catalogOf(token)).repositories, ['dave/tool', 'public/lib', 'public/lib/sub']);
  });

  it('anonymous is challenged, gets a catalog token without credentials and sees the anonymous grants only', async () => {
    await expectChallenge(await fetch(`${url}/v2/_catalog`), 'registry:catalog:*');
    const reply = await getToken(stack.auth, [['service', SERVICE], ['scope', 'registry:catalog:*']]);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual((await catalogOf(String(reply.body.token))).repositories, ['public/lib', 'public/lib/sub']);
  });

  it('an admin sees everything; a token without the catalog is insufficient', async () => {
    const admin = await tokenFor(stack.auth, 'admin', ADMIN_PASSWORD, ['registry:catalog:*']);
    assert.deepEqual(accessOf(admin), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.equal(decodeJwt(admin).dockyard_catalog, undefined);
    assert.deepEqual((await catalogOf(admin)).repositories, REPOSITORIES);
    const repositoryOnly = await tokenFor(stack.auth, 'carol', 'carol-password', ['repository:team/app:pull']);
    await expectChallenge(await withToken(`${url}/v2/_catalog`, repositoryOnly), 'registry:catalog:*', 'insufficient_scope');
  });

  it('tokens signed elsewhere (a foreign token server with the same trust): `*` alone lists all, `list` alone none, a malformed claim is refused', async () => {
    const issuer = new TokenIssuer({ keys: await KeyStore.open(stack.auth.config.keysDir), issuer: ISSUER, ttlSeconds: 60 });
    const sign = async (actions: string[], catalog?: string[]) =>
      (await issuer.issue({ subject: 'someone', audience: SERVICE, access: [{ type: 'registry', name: 'catalog', actions }], ...(catalog ? { catalog } : {}) })).token;
    assert.deepEqual((await catalogOf(await sign(['*']))).repositories, REPOSITORIES);
    assert.deepEqual((await catalogOf(await sign(['list']))).repositories, []);
    assert.deepEqual((await catalogOf(await sign(['*'], ['team/*']))).repositories, ['team/app', 'team/other'], 'the claim narrows even `*`');
    await expectChallenge(await withToken(`${url}/v2/_catalog`, await sign(['list'], ['Team/*'])), 'registry:catalog:*', 'invalid_token');
    await expectChallenge(await withToken(`${url}/v2/_catalog`, await sign(['pull'], ['team/*'])), 'registry:catalog:*', 'insufficient_scope');
  });

  it('without any anonymous grant, anonymous gets no catalog (a 401 that asks to log in)', async () => {
    assert.equal((await adminApi(stack.auth, 'DELETE', `/grants/${anonymousGrant}`)).status, 204);
    const reply = await getToken(stack.auth, [['service', SERVICE], ['scope', 'registry:catalog:*']]);
    assert.deepEqual(accessOf(String(reply.body.token)), []);
    await expectChallenge(await withToken(`${url}/v2/_catalog`, String(reply.body.token)), 'registry:catalog:*', 'insufficient_scope');
  });
});
