// The lifecycle admin API (/v2/_dockyard/rules, /quotas, /audit) with real tokens: the auth
// service's authorizer decides what an admin and a non-admin get for `registry:catalog:*`,
// its issuer signs the token, the registry's TokenAccessController verifies it. Only the
// admin's token passes; state-changing requests need Content-Type: application/json; every
// change is in the audit log and takes effect on pushes at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorize, type Principal } from '../../../services/auth/authorize.js';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { TokenAccessController } from '../../../services/registry/auth/token.js';
import { certificateBundleResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { keyFixture, type KeyFixture } from '../../unit/token/helpers.js';
import { buildImage, expectError, putManifest, pushImage, startReplica, startTestRegistry, type TestRegistry } from './harness.js';

const SERVICE = 'dockyard';
const CATALOG = { type: 'registry', name: 'catalog', actions: ['*'] };
const PULL_TEAM = [{ subjectKind: 'user' as const, subjectName: 'alice', pattern: 'team/**', actions: ['pull', 'push'] }];

const user = (name: string, admin: boolean): Principal => ({ kind: 'user', name, admin, groups: [] });

/** Every endpoint and method of the API, with a body where it takes one. */
const ENDPOINTS: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: 'rules' },
  { method: 'POST', path: 'rules', body: { kind: 'forbidden', repositoryPattern: 'team/**', tagPattern: 'latest' } },
  { method: 'DELETE', path: 'rules/1' },
  { method: 'POST', path: 'rules/presets/release', body: {} },
  { method: 'GET', path: 'quotas' },
  { method: 'PUT', path: 'quotas/team', body: { hardBytes: 1000 } },
  { method: 'DELETE', path: 'quotas/team', body: {} },
  { method: 'GET', path: 'audit' },
];

describe('lifecycle admin API with token auth', () => {
  let fx: KeyFixture;
  let issuer: TokenIssuer;
  let registry: TestRegistry;
  let open: { url: string; close(): Promise<void> };
  const tokens = new Map<string, string>();

  before(async () => {
    fx = await keyFixture('lifecycle-admin');
    const verifier = new TokenVerifier({ issuer: 'dockyard-auth', audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    issuer = new TokenIssuer({ keys: fx.keys, issuer: 'dockyard-auth', ttlSeconds: 300 });
    registry = await startTestRegistry({ access: new TokenAccessController({ realm: 'https://auth.example/token', service: SERVICE, verifier }) });
    // Pushes that show a rule or quota in effect go through an open server on the same database.
    open = await startReplica(registry);
    for (const principal of [user('root', true), user('alice', false)]) {
      const granted = authorize(principal, [CATALOG], PULL_TEAM);
      tokens.set(principal.name, (await issuer.issue({ subject: principal.name, audience: SERVICE, ...granted })).token);
    }
  });
  after(async () => {
    await open?.close();
    await registry?.close();
    fx?.cleanup();
  });

  function call(who: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const auth: Record<string, string> = who ? { Authorization: `Bearer ${tokens.get(who)}` } : {};
    const json: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    return fetch(`${registry.url}/v2/_dockyard/${path}`, {
      method,
      headers: { ...auth, ...json, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }
  async function ok<T>(response: Response, status = 200): Promise<T> {
    const text = await response.text();
    assert.equal(response.status, status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  const ruleCount = async () => (await ok<{ rules: unknown[] }>(await call('root', 'GET', 'rules'))).rules.length;

  it('the authorizer gives the admin registry:catalog:* and the non-admin only list', () => {
    assert.deepEqual(authorize(user('root', true), [CATALOG], PULL_TEAM).access, [CATALOG]);
    assert.deepEqual(authorize(user('alice', false), [CATALOG], PULL_TEAM).access, [{ type: 'registry', name: 'catalog', actions: ['list'] }]);
  });

  it('refuses a non-admin token (insufficient scope) and anonymous requests on every endpoint, and changes nothing', async () => {
    for (const { method, path, body } of ENDPOINTS) {
      const refused = await call('alice', method, path, body);
      await expectError(refused, 401, 'UNAUTHORIZED');
      assert.match(refused.headers.get('www-authenticate') ?? '', /scope="registry:catalog:\*",error="insufficient_scope"/, `${method} ${path}`);
      const anonymous = await call(null, method, path, body);
      await expectError(anonymous, 401, 'UNAUTHORIZED');
      assert.doesNotMatch(anonymous.headers.get('www-authenticate') ?? '', /error=/, `${method} ${path}`);
    }
    assert.equal(await ruleCount(), 0);
    assert.deepEqual((await ok<{ quotas: unknown[] }>(await call('root', 'GET', 'quotas'))).quotas, []);
  });

  it('lets the admin add and remove rules and apply the release preset, audited, and in effect on pushes at once', async () => {
    const rule = await ok<{ id: number; kind: string; createdBy: string }>(
      await call('root', 'POST', 'rules', { kind: 'forbidden', repositoryPattern: 'team/**', tagPattern: 'latest' }),
      201,
    );
    assert.equal(rule.kind, 'forbidden');
    assert.equal(rule.createdBy, 'api:root');
    const image = buildImage({ seed: 'rules api' });
    await pushImage(open.url, 'team/app', 'v1', image);
    await expectError(await putManifest(open.url, 'team/app', 'latest', JSON.parse(image.manifest.toString())), 403, 'DENIED');

    const preset = await ok<{ rules: Array<{ id: number; repositoryPattern: string }> }>(await call('root', 'POST', 'rules/presets/release', undefined, { 'Content-Type': 'application/json' }));
    assert.ok(preset.rules.some((r) => r.repositoryPattern === 'prod/**'));
    assert.equal(await ruleCount(), 1 + preset.rules.length);

    const removed = await ok<{ id: number }>(await call('root', 'DELETE', `rules/${rule.id}`, undefined, { 'Content-Type': 'application/json' }));
    assert.equal(removed.id, rule.id);
    assert.equal((await putManifest(open.url, 'team/app', 'latest', JSON.parse(image.manifest.toString()))).status, 201);
    await expectError(await call('root', 'DELETE', `rules/${rule.id}`, undefined, { 'Content-Type': 'application/json' }), 404, 'NOT_FOUND');
    await expectError(await call('root', 'POST', 'rules/presets/nightly', {}), 404, 'NOT_FOUND');

    const audit = await ok<{ entries: Array<{ actor: string; action: string; target: string }> }>(await call('root', 'GET', 'audit'));
    const mine = audit.entries.filter((e) => e.target === `rule ${rule.id}`).map((e) => [e.actor, e.action]);
    assert.deepEqual(mine, [['api:root', 'tag_rule.remove'], ['api:root', 'tag_rule.add']]);
    assert.ok(audit.entries.some((e) => e.action === 'tag_rule.preset' && e.actor === 'api:root'));
    // Leave no rules for the other tests.
    for (const r of preset.rules) await ok(await call('root', 'DELETE', `rules/${r.id}`, undefined, { 'Content-Type': 'application/json' }));
  });

  it('lets the admin set, list and remove a quota, audited, and enforced on pushes at once', async () => {
    const set = await ok<{ namespace: string; hardBytes: number; softBytes: number | null }>(await call('root', 'PUT', 'quotas/small', { hardBytes: 10, softBytes: 5 }));
    assert.deepEqual(set, { namespace: 'small', hardBytes: 10, softBytes: 5 });
    const listed = await ok<{ quotas: unknown[] }>(await call('root', 'GET', 'quotas'));
    assert.deepEqual(listed.quotas, [{ namespace: 'small', hardBytes: 10, softBytes: 5, usageBytes: 0 }]);
    const image = buildImage({ seed: 'quota api' });
    await assert.rejects(pushImage(open.url, 'small/app', 'v1', image));

    assert.equal((await call('root', 'DELETE', 'quotas/small', undefined, { 'Content-Type': 'application/json' })).status, 204);
    assert.deepEqual((await ok<{ quotas: unknown[] }>(await call('root', 'GET', 'quotas'))).quotas, []);
    await pushImage(open.url, 'small/app', 'v1', image);
    const audit = await ok<{ entries: Array<{ actor: string; action: string; target: string }> }>(await call('root', 'GET', 'audit'));
    assert.deepEqual(
      audit.entries.filter((e) => e.target === 'namespace small').map((e) => [e.actor, e.action]),
      [['api:root', 'quota.set'], ['api:root', 'quota.set']],
    );
  });

  it('refuses state-changing requests without Content-Type: application/json or from another site, changing nothing', async () => {
    const rule = JSON.stringify({ kind: 'forbidden', repositoryPattern: 'team/**', tagPattern: 'latest' });
    await expectError(await call('root', 'POST', 'rules', rule, { 'Content-Type': 'text/plain' }), 415, 'UNSUPPORTED');
    await expectError(await call('root', 'POST', 'rules', rule, { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED');
    await expectError(await call('root', 'POST', 'rules/presets/release'), 415, 'UNSUPPORTED');
    await expectError(await call('root', 'PUT', 'quotas/team', { hardBytes: 1 }, { Origin: 'https://evil.example' }), 403, 'DENIED');
    await expectError(await call('root', 'DELETE', 'quotas/team', {}, { 'Sec-Fetch-Site': 'cross-site' }), 403, 'DENIED');
    assert.equal(await ruleCount(), 0);
    assert.deepEqual((await ok<{ quotas: unknown[] }>(await call('root', 'GET', 'quotas'))).quotas, []);
  });

  it('answers malformed requests with the error code and a message', async () => {
    await expectError(await call('root', 'POST', 'rules', { kind: 'sometimes', repositoryPattern: 'team/**', tagPattern: 'x' }), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'POST', 'rules', { kind: 'forbidden', repositoryPattern: 'team/**' }), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'POST', 'rules', '{"kind":'), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'POST', 'rules', '[]'), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'PUT', 'quotas/team', { hardBytes: -1 }), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'PUT', 'quotas/team', { hardBytes: '1GB' }), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'PUT', 'quotas/team', { softBytes: 5 }), 400, 'REQUEST_INVALID');
    await expectError(await call('root', 'PUT', 'quotas/Team', { hardBytes: 5 }), 400, 'NAME_INVALID');
    await expectError(await call('root', 'GET', 'rules/abc'), 404, 'NOT_FOUND');
    await expectError(await call('root', 'PATCH', 'rules', {}), 405, 'METHOD_NOT_ALLOWED');
    assert.equal(await ruleCount(), 0);
  });
});
