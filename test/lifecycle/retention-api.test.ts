/**
 * Retention through the lifecycle admin API (routes/retention-admin.ts) on SQLite and
 * PostgreSQL: add, list, dry-run, run and remove a policy, every change and every run that
 * removed something in the audit log under the API actor, bad input refused with
 * REQUEST_INVALID, and writes without a JSON content type refused like the other admin routes.
 * (Who may call it is access.ts's, covered with the other admin routes in test/unit/registry.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LifecycleRegistry, makeImage, pushImage, skipReason, startLifecycleRegistry } from './harness.js';

function send(registry: LifecycleRegistry, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${registry.url}/v2/_dockyard/${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`retention through the API (${dialect})`, { skip }, () => {
    it('adds, lists, runs (dry and for real) and removes a policy, audited', async () => {
      const registry = await startLifecycleRegistry(dialect, 0);
      try {
        for (const i of [0, 1, 2]) assert.ok(await pushImage(registry.url, 'ci/api', `build-${i}`, makeImage(`api ${i}`, [Buffer.from(`api layer ${i}\n`)])));

        const added = await send(registry, 'POST', 'retention', { repositoryPattern: 'ci/**', tagPattern: 'build-*', keepLast: 1, basis: 'pull' });
        assert.equal(added.status, 201);
        const policy = (await added.json()) as { id: number; keepLast: number; keepDays: null; basis: string };
        assert.deepEqual({ keepLast: policy.keepLast, keepDays: policy.keepDays, basis: policy.basis }, { keepLast: 1, keepDays: null, basis: 'pull' });
        assert.equal(added.headers.get('location'), `/v2/_dockyard/retention/${policy.id}`);

        for (const [body, message] of [
          [{ repositoryPattern: 'ci/**', tagPattern: '*' }, /needs --keep-last N and\/or --keep-days N/],
          [{ repositoryPattern: 'ci/**', tagPattern: '*', keepLast: -1 }, /keepLast must be a whole number/],
          [{ repositoryPattern: 'ci/**', tagPattern: '*', keepDays: 1, basis: 'fetch' }, /basis must be "push" or "pull"/],
          [{ repositoryPattern: 7, tagPattern: '*', keepDays: 1 }, /repositoryPattern must be a string/],
        ] as const) {
          const refused = await send(registry, 'POST', 'retention', body);
          assert.equal(refused.status, 400);
          const error = ((await refused.json()) as { errors: Array<{ code: string; message: string }> }).errors[0]!;
          assert.equal(error.code, 'REQUEST_INVALID');
          assert.match(error.message, message);
        }
        const plain = await fetch(`${registry.url}/v2/_dockyard/retention`, { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } });
        assert.equal(plain.status, 415);
        await plain.arrayBuffer();

        const listed = (await (await send(registry, 'GET', 'retention')).json()) as { policies: Array<{ id: number }> };
        assert.deepEqual(listed.policies.map((p) => p.id), [policy.id]);

        const dry = (await (await send(registry, 'POST', 'retention/run', { dryRun: true })).json()) as { dryRun: boolean; tags: unknown[] };
        assert.equal(dry.dryRun, true);
        assert.equal(dry.tags.length, 2);
        const run = await send(registry, 'POST', 'retention/run', {});
        assert.equal(run.status, 200);
        const report = (await run.json()) as { tags: Array<{ tag: string }> };
        assert.deepEqual(report.tags.map((t) => t.tag).sort(), ['build-0', 'build-1']);

        assert.equal((await send(registry, 'DELETE', `retention/${policy.id}`, {})).status, 204);
        const missing = await send(registry, 'DELETE', `retention/${policy.id}`, {});
        assert.equal(missing.status, 404);
        await missing.arrayBuffer();

        const audit = (await (await send(registry, 'GET', 'audit')).json()) as { entries: Array<{ actor: string; action: string }> };
        const actions = audit.entries.filter((e) => e.action.startsWith('retention.')).map((e) => `${e.actor} ${e.action}`);
        assert.deepEqual(actions, ['api:anonymous retention.remove', 'api:anonymous retention.run', 'api:anonymous retention.add']);
      } finally {
        await registry.close();
      }
    });
  });
}
