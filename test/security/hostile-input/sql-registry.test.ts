// SQL metacharacters in every registry parameter that can reach a query: repository
// names, tags, `last`, `n`, digests, mount sources and artifactType. On SQLite and on
// PostgreSQL every answer is a 2xx or the spec's 4xx, never a 500, and afterwards the
// repository is exactly what it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildImage, pushImage } from '../../api/registry/harness.js';
import { databaseKinds } from '../databases.js';
import { startRegistry, type RegistryUnderTest } from '../services.js';
import { assertNoServerError, databaseFor, hostileStrings, MUST_CHECK } from './sql-inputs.js';

for (const { kind, skip } of await databaseKinds()) {
  describe(`SQL metacharacters against the registry on ${kind}`, { skip }, () => {
    let registry: RegistryUnderTest;
    let digest: string;
    before(async () => {
      registry = await startRegistry({ database: await databaseFor(kind, 'registry') });
      digest = await pushImage(registry.url, 'sql/app', 'v1', buildImage({ seed: 'sql', layers: 1 }));
    });
    after(() => registry?.close());

    it('property: no parameter makes the registry fail', async () => {
      // The colon stays literal so `sha256:…` shapes reach the digest parser.
      const enc = (s: string) => encodeURIComponent(s).replace(/%3A/g, ':');
      await fc.assert(
        fc.asyncProperty(hostileStrings, async (s) => {
          const requests: Array<[string, string]> = [
            ['GET', `/v2/${enc(s)}/tags/list`],
            ['GET', `/v2/sql/app/manifests/${enc(s)}`],
            ['DELETE', `/v2/sql/app/manifests/${enc(s)}`],
            ['GET', `/v2/sql/app/blobs/${enc(s)}`],
            ['GET', `/v2/sql/app/blobs/sha256:${enc(s)}`],
            ['GET', `/v2/sql/app/tags/list?last=${enc(s)}`],
            ['GET', `/v2/_catalog?last=${enc(s)}&n=${enc(s)}`],
            ['GET', `/v2/sql/app/referrers/${digest}?artifactType=${enc(s)}`],
            ['POST', `/v2/sql/other/blobs/uploads/?mount=${enc(s)}&from=${enc(s)}`],
            ['POST', `/v2/sql/other/blobs/uploads/?mount=${digest}&from=${enc(s)}`],
            ['PATCH', `/v2/sql/app/blobs/uploads/${enc(s)}`],
          ];
          for (const [method, path] of requests) await assertNoServerError(await fetch(`${registry.url}${path}`, { method }), `${method} ${path}`);
        }),
        { numRuns: 30, seed: 0x5ec0007, examples: MUST_CHECK },
      );
    });

    it('the data is untouched', async () => {
      assert.deepEqual(await (await fetch(`${registry.url}/v2/sql/app/tags/list`)).json(), { name: 'sql/app', tags: ['v1'] });
      assert.equal((await fetch(`${registry.url}/v2/sql/app/manifests/v1`)).headers.get('docker-content-digest'), digest);
      const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
      assert.ok(catalog.repositories.includes('sql/app'));
    });
  });
}
