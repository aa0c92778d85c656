// Two registry processes as on two hosts: separate data dirs, nothing shared but one
// PostgreSQL schema and one object store, no node:cluster IPC. A chunked upload whose
// PATCHes alternate replicas completes with the right digest; a chunk sent to the second
// replica while the first still streams gets 416 (the session lock lives in PostgreSQL);
// a replica killed while it holds a session frees it; the same blob pushed through both at
// once converges; skopeo pushes through one and pulls through the other. Run once per
// storage backend (harness/replica-backends.ts) by the `*-replicas.test.ts` files.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { lockIdOf } from '../../../shared/db/advisory-mutex.js';
import { buildFixtureLayout, type FixtureLayout } from '../../fixtures/image.js';
import { heldBody } from '../../support/held-body.js';
import { POSTGRES_URL, postgresUnavailable } from '../../support/postgres.js';
import { skopeo, type Tool } from './clients.js';
import type { ReplicaBackend, ReplicaStore } from './replica-backends.js';
import { fileDigest, readLayoutImage } from './oci.js';
import { registryTarget, startRegistry, type RunningService } from './services.js';
import { requireTools } from './tools.js';
import { Workspace } from './workspace.js';

const MiB = 1024 * 1024;

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function describeReplicaScenarios(backend: ReplicaBackend): Promise<void> {
  const gate = requireTools(['skopeo']);
  const suite = `two registry replicas on PostgreSQL and one ${backend.name} store`;
  if (!(await backend.gate(suite, postgresUnavailable))) return;
  const skip = gate.skip || (registryTarget() !== 'dockyard' && 'Dockyard only');
  describe(suite, { skip }, () => {
    let ws: Workspace;
    let fixture: FixtureLayout;
    let a: RunningService;
    let b: RunningService;
    let sk: Tool;
    let observer: pg.Client;
    let env: Record<string, string>;
    /** The store itself, to see what the replicas left there. */
    let store: ReplicaStore;

    before(async () => {
      ws = Workspace.create('replicas');
      fixture = await buildFixtureLayout(ws.path('oci'));
      const schema = `dockyard_replicas_${process.pid}_${randomBytes(4).toString('hex')}`;
      observer = new pg.Client({ connectionString: POSTGRES_URL });
      await observer.connect();
      await observer.query(`create schema "${schema}"`);
      ws.defer('drop the PostgreSQL schema', async () => {
        await observer.query(`drop schema if exists "${schema}" cascade`);
        await observer.end();
      });
      const databaseUrl = new URL(POSTGRES_URL);
      databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
      store = await backend.createStore();
      env = { ...store.env, REGISTRY_DATABASE_URL: databaseUrl.toString() };
      a = await startRegistry(ws, { name: 'replica-a', env });
      b = await startRegistry(ws, { name: 'replica-b', env });
      sk = skopeo(ws);
    });
    after(async () => {
      await store?.close();
      await ws?.dispose();
    });

    /** The PostgreSQL advisory locks on one upload session: true when held, false when waited for. */
    async function lockState(id: string): Promise<boolean[]> {
      const { rows } = await observer.query<{ granted: boolean }>(
        "select granted from pg_locks where locktype = 'advisory' and objid = $1 order by granted desc",
        [lockIdOf(id) >>> 0],
      );
      return rows.map((row) => row.granted);
    }

    it('a chunked upload whose PATCHes alternate replicas completes with the right digest, visible on both', async () => {
      const content = randomBytes(13 * MiB + 5);
      const location = (await fetch(`${a.url}/v2/team/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
      const replicas = [b, a];
      const step = 3 * MiB;
      for (let offset = 0, i = 0; offset < content.length; offset += step, i++) {
        const chunk = content.subarray(offset, offset + step);
        const response = await fetch(`${replicas[i % 2].url}${location}`, {
          method: 'PATCH',
          body: chunk,
          headers: { 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
        });
        assert.equal(response.status, 202, await response.clone().text());
      }
      const digest = sha256(content);
      const done = await fetch(`${b.url}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
      for (const replica of [a, b]) {
        const pulled = await fetch(`${replica.url}/v2/team/app/blobs/${digest}`);
        assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content), `pulled through ${replica.url}`);
      }
    });

    it('a chunk sent to the other replica while the first still streams gets 416, not a lost append', async () => {
      const location = (await fetch(`${a.url}/v2/team/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
      const id = location.split('/').pop()!;
      const content = randomBytes(6 * MiB);
      const { body, release } = heldBody(content, 3 * MiB);
      const slow = fetch(`${a.url}${location}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
      // Sync points only (no timing is asserted): the lock is held, then the racer waits for it.
      for (let i = 0; i < 200 && (await lockState(id)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const early = Buffer.from('too early');
      const racing = fetch(`${b.url}${location}`, { method: 'PATCH', body: early, headers: { 'Content-Range': `0-${early.length - 1}` } });
      for (let i = 0; i < 200 && (await lockState(id)).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      release();
      assert.equal((await slow).status, 202);
      const refused = await racing;
      assert.equal(refused.status, 416, await refused.clone().text());
      assert.equal(refused.headers.get('range'), `0-${content.length - 1}`);
      const done = await fetch(`${b.url}${location}?digest=${sha256(content)}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
    });

    it('a replica SIGKILLed while it holds a session lock frees it: the session continues on another replica', async () => {
      const doomed = await startRegistry(ws, { name: 'replica-c', env });
      const location = (await fetch(`${doomed.url}/v2/team/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
      const id = location.split('/').pop()!;
      const content = randomBytes(8 * MiB);
      // Six MiB go up (a part reaches the store), then the request hangs with the lock held.
      const { body } = heldBody(randomBytes(7 * MiB), 6 * MiB);
      const hanging = fetch(`${doomed.url}${location}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit).catch((err: unknown) => err);
      for (let i = 0; i < 200 && (await lockState(id)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await lockState(id), [true], 'replica C holds the session lock');
      for (let i = 0; i < 200 && (await store.openUploads(id)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await store.openUploads(id), 1, 'replica C has an upload open in the store');
      process.kill(-doomed.process.pid, 'SIGKILL');
      assert.ok((await hanging) instanceof Error, 'the hanging PATCH died with its replica');
      // Nothing of the killed request was acknowledged, so the session is still empty.
      const patched = await fetch(`${b.url}${location}`, { method: 'PATCH', body: content, headers: { 'Content-Range': `0-${content.length - 1}` } });
      assert.equal(patched.status, 202, await patched.clone().text());
      const done = await fetch(`${a.url}${location}?digest=${sha256(content)}`, { method: 'PUT' });
      assert.equal(done.status, 201, await done.clone().text());
      assert.ok(Buffer.from(await (await fetch(`${a.url}/v2/team/app/blobs/${sha256(content)}`)).arrayBuffer()).equals(content));
      // The killed replica's unfinished upload was aborted with the session.
      assert.equal(await store.openUploads(id), 0);
      assert.deepEqual(await lockState(id), []);
    });

    it('the same blob pushed through both replicas at once converges on one copy', async () => {
      const content = randomBytes(7 * MiB);
      const digest = sha256(content);
      const push = (replica: RunningService) =>
        fetch(`${replica.url}/v2/team/same/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content });
      const answers = await Promise.all([push(a), push(b), push(a), push(b)]);
      for (const answer of answers) assert.equal(answer.status, 201, await answer.clone().text());
      for (const replica of [a, b]) {
        const pulled = await fetch(`${replica.url}/v2/team/same/blobs/${digest}`);
        assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(content));
      }
    });

    it('skopeo pushes through one replica and pulls the same image through the other', async () => {
      await sk.ok(['copy', '--dest-tls-verify=false', fixture.ref('tiny'), `docker://${a.host}/team/tiny:v1`]);
      const pulled = ws.path('pulled');
      await sk.ok(['copy', '--src-tls-verify=false', `docker://${b.host}/team/tiny:v1`, `oci:${pulled}:v1`]);
      const image = await readLayoutImage(pulled, 'v1');
      assert.equal(image.digest, fixture.tiny.manifest.digest);
      for (const digest of [image.configDigest, ...image.layerDigests]) {
        assert.equal(await fileDigest(image.blobPath(digest)), digest);
      }
    });
  });
}
