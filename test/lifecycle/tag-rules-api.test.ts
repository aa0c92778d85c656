/**
 * Tag rules through the registry API, on SQLite and PostgreSQL: the release preset applied
 * through `npm run admin -- rules preset release` (the auth CLI handing over to the
 * registry's), then every kind of rule on manifest PUT and DELETE with the error clients
 * receive, and the audit trail of the change.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, type LifecycleRegistry, makeImage, pushImage, skipReason, startLifecycleRegistry } from './harness.js';



async function refusal(response: Response): Promise<string> {
  assert.equal(response.status, 403);
  const body = (await response.json()) as { errors: Array<{ code: string; message: string }> };
  assert.equal(body.errors[0]!.code, 'DENIED');
  return body.errors[0]!.message;
}

function put(registry: LifecycleRegistry, repo: string, tag: string, manifest: Buffer): Promise<Response> {
  return fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`tag rules through the API (${dialect})`, { skip }, () => {
    it('the release preset refuses what the release policy forbids, with the rule named', async () => {
      const registry = await startLifecycleRegistry(dialect, 3600);
      try {
        const preset = await admin(registry, ['rules', 'preset', 'release']);
        assert.equal(preset.code, 0, preset.err);
        assert.match(preset.out, /applied preset release/);
        assert.match(preset.out, /immutable\s+prod\/\*\*\s+\*/);

        const first = makeImage('first', [Buffer.from('one\n')]);
        const second = makeImage('second', [Buffer.from('two\n')]);
        for (const repo of ['test/app', 'prod/app', 'dev/app']) {
          assert.ok(await pushImage(registry.url, repo, first.digest, first));
          assert.ok(await pushImage(registry.url, repo, second.digest, second));
        }
        // test/**: commit ids only.
        assert.equal((await put(registry, 'test/app', '3f2a9c1', first.manifest)).status, 201);
        assert.match(await refusal(await put(registry, 'test/app', 'latest', first.manifest)), /tag "latest" does not have the format .* required in test\/app by rule \d+ \(format test\/\*\* /);
        // prod/**: versions, immutable, never latest.
        assert.equal((await put(registry, 'prod/app', '1.0.0', first.manifest)).status, 201);
        assert.equal((await put(registry, 'prod/app', '1.0.0', first.manifest)).status, 201, 'the same content again is no change');
        assert.match(await refusal(await put(registry, 'prod/app', '1.0.0', second.manifest)), /tag "1.0.0" in prod\/app is immutable by rule \d+ \(immutable prod\/\*\* \*\): it already points at sha256:/);
        assert.match(await refusal(await put(registry, 'prod/app', 'latest', second.manifest)), /tag "latest" is forbidden in prod\/app by rule \d+ \(forbidden prod\/\*\* latest\)/);
        assert.match(await refusal(await put(registry, 'prod/app', 'feature-x', second.manifest)), /does not have the format/);
        assert.match(await refusal(await fetch(`${registry.url}/v2/prod/app/manifests/1.0.0`, { method: 'DELETE' })), /immutable .* cannot be deleted/);
        assert.match(await refusal(await fetch(`${registry.url}/v2/prod/app/manifests/${first.digest}`, { method: 'DELETE' })), /tag "1.0.0" .* cannot be deleted/);
        assert.equal((await fetch(`${registry.url}/v2/prod/app/manifests/nope`, { method: 'DELETE' })).status, 404);
        const pulled = await fetch(`${registry.url}/v2/prod/app/manifests/1.0.0`);
        assert.equal(pulled.headers.get('docker-content-digest'), first.digest, 'the refused pushes changed nothing');
        await pulled.arrayBuffer();
        // Elsewhere nothing applies.
        assert.equal((await put(registry, 'dev/app', 'latest', first.manifest)).status, 201);
        assert.equal((await put(registry, 'dev/app', 'latest', second.manifest)).status, 201);

        // Rules are managed and audited from the CLI.
        const added = await admin(registry, ['rules', 'add', 'immutable', 'dev/*', 'v*']);
        assert.equal(added.code, 0, added.err);
        const id = /^rule (\d+):/.exec(added.out)![1]!;
        assert.equal((await put(registry, 'dev/app', 'v1', first.manifest)).status, 201);
        assert.match(await refusal(await put(registry, 'dev/app', 'v1', second.manifest)), new RegExp(`rule ${id} \\(immutable dev/\\* v\\*\\)`));
        const listed = JSON.parse((await admin(registry, ['rules', 'list', '--json'])).out) as Array<{ id: number }>;
        assert.equal(listed.length, 5);
        assert.equal((await admin(registry, ['rules', 'remove', id])).code, 0);
        assert.equal((await put(registry, 'dev/app', 'v1', second.manifest)).status, 201, 'a removed rule no longer applies');
        const audit = JSON.parse((await admin(registry, ['rules', 'audit', '--json'])).out) as Array<{ actor: string; action: string; target: string }>;
        assert.deepEqual(audit.slice(0, 2).map((e) => [e.action, e.target]), [['tag_rule.remove', `rule ${id}`], ['tag_rule.add', `rule ${id}`]]);
        assert.ok(audit.some((e) => e.action === 'tag_rule.preset'));
        assert.ok(audit.every((e) => e.actor.startsWith('cli')));

        // Concurrent pushes of different content to one new immutable tag: exactly one wins.
        const contenders = Array.from({ length: 6 }, (_, i) => makeImage(`contender ${i}`, [Buffer.from(`contender ${i}\n`)]));
        for (const image of contenders) assert.ok(await pushImage(registry.url, 'prod/app', image.digest, image));
        const statuses = await Promise.all(contenders.map(async (image) => (await put(registry, 'prod/app', '2.0.0', image.manifest)).status));
        assert.deepEqual([...statuses].sort(), [201, 403, 403, 403, 403, 403]);
        const winner = contenders[statuses.indexOf(201)]!;
        const current = await fetch(`${registry.url}/v2/prod/app/manifests/2.0.0`, { method: 'HEAD' });
        assert.equal(current.headers.get('docker-content-digest'), winner.digest);

        const bad = await admin(registry, ['rules', 'add', 'sticky', 'prod/**', '*']);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /KIND must be one of immutable, forbidden, format/);
        const badPattern = await admin(registry, ['rules', 'add', 'format', 'prod/**', '^([']);
        assert.equal(badPattern.code, 1);
        assert.match(badPattern.err, /not a valid regular expression/);
      } finally {
        await registry.close();
      }
    });
  });
}
