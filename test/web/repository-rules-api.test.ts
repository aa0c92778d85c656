// The registry's read-only view of the tag rules applying to one repository
// (GET /v2/<name>/_dockyard/rules) and the immutable flag of the browse API's tags, both
// read with pull on the repository: a caller without pull learns nothing, not even whether
// the repository exists. And garbage collection over the admin API (GET /v2/_dockyard/gc,
// POST /v2/_dockyard/gc/runs): admins only, one run at a time, its report kept.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, addGrant, addUser, pushMultiArch, registryToken, startWebStack, type WebStack } from '../support/web-stack.js';

const ALICE = { name: 'alice', password: 'alice-pw-rules-api' };
const BOB = { name: 'bob', password: 'bob-pw-rules-api' };

async function call(stack: WebStack, path: string, token: string, init: RequestInit = {}): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.registryUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) } });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('repository rules and garbage collection over the registry API', () => {
  let stack: WebStack;
  let admin: string;
  before(async () => {
    stack = await startWebStack();
    await addUser(stack, ALICE.name, ALICE.password);
    await addUser(stack, BOB.name, BOB.password);
    await addGrant(stack, 'user:alice', 'prod/*', 'pull,push');
    await addGrant(stack, 'user:alice', 'team/*', 'pull,push');
    await addGrant(stack, 'user:bob', 'team/*', 'pull');
    await pushMultiArch(stack, ALICE, 'prod/api', ['v1.0.0', 'v1.1.0']);
    await pushMultiArch(stack, ALICE, 'team/app', ['latest']);
    admin = await registryToken(stack, 'registry:catalog:*', ADMIN);
    for (const rule of [
      { kind: 'immutable', repositoryPattern: 'prod/**', tagPattern: 'v*' },
      { kind: 'forbidden', repositoryPattern: 'prod/*', tagPattern: 'latest' },
      { kind: 'format', repositoryPattern: 'test/**', tagPattern: '^[0-9a-f]{7,40}$' },
    ]) {
      assert.equal((await call(stack, '/v2/_dockyard/rules', admin, { method: 'POST', body: JSON.stringify(rule) })).status, 201);
    }
  });
  after(() => stack?.close());

  it('gives a caller with pull the rules that apply to the repository, without who wrote them', async () => {
    const token = await registryToken(stack, 'repository:prod/api:pull', ALICE);
    const res = await call(stack, '/v2/prod/api/_dockyard/rules', token);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      repository: 'prod/api',
      rules: [
        { kind: 'immutable', repositoryPattern: 'prod/**', tagPattern: 'v*' },
        { kind: 'forbidden', repositoryPattern: 'prod/*', tagPattern: 'latest' },
      ],
    });
    const none = await call(stack, '/v2/team/app/_dockyard/rules', await registryToken(stack, 'repository:team/app:pull', BOB));
    assert.deepEqual(none.body, { repository: 'team/app', rules: [] });
  });

  it('marks the tags an immutable rule protects in the browse API', async () => {
    const token = await registryToken(stack, 'repository:prod/api:pull', ALICE);
    const res = await call(stack, '/v2/prod/api/_dockyard/tags', token);
    assert.deepEqual((res.body.tags as Array<{ name: string; immutable: boolean }>).map((t) => [t.name, t.immutable]), [['v1.0.0', true], ['v1.1.0', true]]);
    const team = await call(stack, '/v2/team/app/_dockyard/tags', await registryToken(stack, 'repository:team/app:pull', BOB));
    assert.deepEqual((team.body.tags as Array<{ name: string; immutable: boolean }>).map((t) => [t.name, t.immutable]), [['latest', false]]);
  });

  it('answers a caller without pull exactly as for a repository that does not exist', async () => {
    const hidden = await call(stack, '/v2/prod/api/_dockyard/rules', await registryToken(stack, 'repository:prod/api:pull', BOB));
    const missing = await call(stack, '/v2/prod/nothing-here/_dockyard/rules', await registryToken(stack, 'repository:prod/nothing-here:pull', BOB));
    assert.ok(hidden.status === 401 || hidden.status === 403, String(hidden.status));
    assert.equal(hidden.status, missing.status);
    assert.equal(hidden.text.replaceAll('prod/api', 'NAME'), missing.text.replaceAll('prod/nothing-here', 'NAME'));
    assert.doesNotMatch(hidden.text, /immutable|v\*/);
    const anonymous = await call(stack, '/v2/prod/api/_dockyard/rules', await registryToken(stack, 'repository:prod/api:pull'));
    assert.equal(anonymous.status, 401);
    // With pull on a name that has no repository: the browse API's NAME_UNKNOWN.
    const unknown = await call(stack, '/v2/prod/nothing-here/_dockyard/rules', await registryToken(stack, 'repository:prod/nothing-here:pull', ALICE));
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /NAME_UNKNOWN/);
  });

  it('keeps garbage collection to admins and keeps a run\'s report (one at a time: test/lifecycle/gc-runs.test.ts)', async () => {
    const alice = await registryToken(stack, 'registry:catalog:*', ALICE);
    assert.ok([401, 403].includes((await call(stack, '/v2/_dockyard/gc', alice)).status));
    assert.ok([401, 403].includes((await call(stack, '/v2/_dockyard/gc/runs', alice, { method: 'POST', body: '{}' })).status));
    assert.deepEqual((await call(stack, '/v2/_dockyard/gc', admin)).body, { running: null, last: null });
    const refused = await fetch(`${stack.registryUrl}/v2/_dockyard/gc/runs`, { method: 'POST', headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'text/plain' }, body: '{}' });
    assert.equal(refused.status, 415, 'a write that is not JSON (what a cross-site form could send)');
    assert.equal((await call(stack, '/v2/_dockyard/gc/runs', admin, { method: 'POST', body: '{"dryRun":"yes"}' })).status, 400);
    const started = await call(stack, '/v2/_dockyard/gc/runs', admin, { method: 'POST', body: '{"dryRun":true}' });
    assert.equal(started.status, 202);
    assert.equal(started.body.actor, 'api:admin');
    assert.equal(started.body.dryRun, true);
    let status: { running: unknown; last: { report: { counts: Record<string, number>; bytesFreed: number } | null } | null } = { running: {}, last: null };
    for (let i = 0; i < 100 && status.running !== null; i++) {
      status = (await call(stack, '/v2/_dockyard/gc', admin)).body as typeof status;
      if (status.running !== null) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status.running, null);
    assert.deepEqual(status.last?.report?.counts, { manifests: 0, links: 0, blobs: 0 });
    assert.equal(status.last?.report?.bytesFreed, 0);
    // A run started over the API counts in the registry's GC series like a scheduled one.
    const metrics = await (await fetch(`${stack.registryUrl}/metrics`, { headers: { Authorization: `Bearer ${admin}` } })).text();
    assert.match(metrics, /^registry_gc_run_duration_seconds_count\{[^}]*\} 1$/m);
  });
});
