/**
 * The two windows where a push and the collector meet, forced open on purpose: a storage
 * gate holds the push at the worst moment while a collector (running ahead of the grace
 * period, so nothing protects the push's digests) deletes what it can. The push must then
 * fail cleanly, never be acknowledged over missing content. And the window the collector's
 * marks open (gc-condemned.ts): between its decision and its move, a push of the digest
 * waits and then stores its own copy; a push that takes a stale mark makes the collector
 * put the bytes back. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONDEMNED_STALE_MS } from '../../services/registry/lifecycle/gc-condemned.js';
import type { GcReport } from '../../services/registry/lifecycle/gc.js';
import { assertImagePulls, digestsOnDisk, makeImage, pushImage, sha256, skipReason, startLifecycleRegistry, type Image, type LifecycleRegistry, type StorageOp, uploadBlob } from './harness.js';

const GRACE_SECONDS = 2;
const AHEAD_MS = 10_000;

/** Holds storage operations: each armed hold takes the first operation `op` on a path matching `match`, until released. */
class Gate {
  private armed: Array<{ op: StorageOp; match: RegExp; reached: () => void; held: Promise<void> }> = [];
  readonly hook = async (op: StorageOp, path: string): Promise<void> => {
    const hold = this.armed.find((armed) => armed.op === op && armed.match.test(path));
    if (!hold) return;
    this.armed.splice(this.armed.indexOf(hold), 1);
    hold.reached();
    await hold.held;
  };

  /** Arms a hold; `reached` resolves when an operation is held, `release` lets it go. */
  arm(op: StorageOp, match: RegExp): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    this.armed.push({ op, match, reached, held });
    return { reached: reachedPromise, release };
  }
}

/** Runs `body` against a registry of its own whose storage operations `gate` can hold. */
async function withGatedRegistry(dialect: 'sqlite' | 'postgres', body: (registry: LifecycleRegistry, gate: Gate) => Promise<void>): Promise<void> {
  const gate = new Gate();
  const registry = await startLifecycleRegistry(dialect, GRACE_SECONDS, { storageHook: gate.hook });
  try {
    await body(registry, gate);
  } finally {
    await registry.close();
  }
}

/** Runs a collector past the grace period and holds it once it has condemned `digest`, before it moves the bytes. */
async function collectorHeldAtMove(registry: LifecycleRegistry, gate: Gate, digest: string): Promise<{ run: Promise<GcReport>; release: () => void }> {
  const held = gate.arm('rename', new RegExp(`${digest.slice('sha256:'.length)}$`));
  const run = registry.collector({ offsetMs: AHEAD_MS }).run();
  await held.reached;
  return { run, release: held.release };
}

async function assertBlobPulls(registry: LifecycleRegistry, repository: string, digest: string): Promise<void> {
  const pulled = await fetch(`${registry.url}/v2/${repository}/blobs/${digest}`);
  assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), digest, `${digest} pulls from ${repository}`);
}

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: Array<{ code: string }> };
  return body.errors?.[0]?.code;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`push and collector interleavings (${dialect})`, { skip }, () => {
    it('a manifest whose layers were collected after its first check is refused, not stored', () =>
      withGatedRegistry(dialect, async (registry, gate) => {
        const image = makeImage('late manifest', [Buffer.from('layer of the late manifest\n'.repeat(100))]);
        for (const blob of [image.config, ...image.layers]) assert.equal(await uploadBlob(registry.url, 'team/app', blob), 201);
        // The PUT has checked its references and now stores its bytes: hold it there.
        const held = gate.arm('putContent', new RegExp(`${image.digest.slice('sha256:'.length)}/data$`));
        const put = fetch(`${registry.url}/v2/team/app/manifests/v1`, {
          method: 'PUT',
          body: image.manifest,
          headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        });
        await held.reached;
        const report = await registry.collector({ offsetMs: AHEAD_MS }).run();
        assert.equal(report.links.length, 2, 'the collector took both unreferenced links meanwhile');
        held.release();
        const response = await put;
        assert.equal(response.status, 404);
        assert.equal(await errorCode(response), 'MANIFEST_BLOB_UNKNOWN');
        assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/v1`)).status, 404);
        // The client pushes again and succeeds.
        assert.ok(await pushImage(registry.url, 'team/app', 'v1', image));
        await assertImagePulls(registry.url, 'team/app', 'v1', image);
      }));

    it('an upload whose bytes were collected between their move and their link answers an error, not 201', () =>
      withGatedRegistry(dialect, async (registry, gate) => {
        const blob = Buffer.from('bytes collected mid-upload\n'.repeat(100));
        const start = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
        assert.equal(start.status, 202);
        // Completion moved the bytes into place and now removes the session: hold it there.
        const held = gate.arm('delete', /^\/uploads\//);
        const put = fetch(`${registry.url}${start.headers.get('location')}?digest=${sha256(blob)}`, { method: 'PUT', body: blob });
        await held.reached;
        assert.ok((await digestsOnDisk(registry.blobRoot)).has(sha256(blob)), 'the bytes are in place, unlinked');
        const report = await registry.collector({ offsetMs: AHEAD_MS }).run();
        assert.deepEqual(report.blobs.map((b) => b.digest), [sha256(blob)]);
        held.release();
        const response = await put;
        assert.equal(response.status, 400);
        assert.equal(await errorCode(response), 'BLOB_UPLOAD_INVALID');
        assert.equal((await fetch(`${registry.url}/v2/team/app/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 404);
        assert.equal(await uploadBlob(registry.url, 'team/app', blob), 201, 'uploading again works');
        assert.equal((await fetch(`${registry.url}/v2/team/app/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 200);
      }));

    it('an upload of bytes the collector is moving out waits for the move, then stores its own copy', () =>
      withGatedRegistry(dialect, async (registry, gate) => {
        const blob = Buffer.from('bytes uploaded again while condemned\n'.repeat(100));
        const digest = sha256(blob);
        assert.equal(await uploadBlob(registry.url, 'team/app', blob), 201);
        // The collector has committed its decision (the digest is condemned) and now moves the bytes: hold it there.
        const collector = await collectorHeldAtMove(registry, gate, digest);
        assert.deepEqual(await condemned(registry), [digest]);
        let answered = false;
        const again = uploadBlob(registry.url, 'team/other', blob).finally(() => (answered = true));
        await sleep(300);
        assert.equal(answered, false, 'the upload waits while the digest is condemned');
        collector.release();
        const report = await collector.run;
        assert.deepEqual(report.blobs.map((b) => b.digest), [digest], 'the collector freed the old copy');
        assert.equal(await again, 201);
        assert.deepEqual(await condemned(registry), []);
        await assertBlobPulls(registry, 'team/other', digest);
      }));

    it('an upload whose bytes were condemned after its touch is refused, not linked over bytes about to move', () =>
      withGatedRegistry(dialect, async (registry, gate) => {
        const blob = Buffer.from('bytes condemned between move and link\n'.repeat(100));
        const digest = sha256(blob);
        const start = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
        assert.equal(start.status, 202);
        // The upload has touched the digest and moved its bytes into place; hold it before its link.
        const upload = gate.arm('delete', /^\/uploads\//);
        const put = fetch(`${registry.url}${start.headers.get('location')}?digest=${digest}`, { method: 'PUT', body: blob });
        await upload.reached;
        // A collector past the grace period condemns the bytes; hold it before it moves them.
        const collector = await collectorHeldAtMove(registry, gate, digest);
        upload.release();
        const response = await put;
        assert.equal(response.status, 400, 'the upload saw the mark under the lock');
        assert.equal(await errorCode(response), 'BLOB_UPLOAD_INVALID');
        collector.release();
        assert.deepEqual((await collector.run).blobs.map((b) => b.digest), [digest]);
        assert.equal(await uploadBlob(registry.url, 'team/app', blob), 201, 'uploading again works');
        await assertBlobPulls(registry, 'team/app', digest);
      }));

    it('a manifest PUT that meets a condemned layer under its lock is refused, and one whose own bytes are condemned is told to retry', () =>
      withGatedRegistry(dialect, async (registry, gate) => {
        const layers = [Buffer.from('layer condemned under the manifest\n'.repeat(100))];
        const [first, second] = [makeImage('condemned layer', layers), makeImage('condemned manifest', layers)];
        for (const blob of [first.config, second.config, ...layers]) assert.equal(await uploadBlob(registry.url, 'team/app', blob), 201);
        const putHeld = async (image: Image, mark: string) => {
          // Past its wait for marks, the PUT stores its bytes: hold it there and let a mark appear.
          const held = gate.arm('putContent', new RegExp(`${image.digest.slice('sha256:'.length)}/data$`));
          const put = fetch(`${registry.url}/v2/team/app/manifests/v1`, { method: 'PUT', body: image.manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
          await held.reached;
          await registry.metadata.db('gc_condemned').insert({ digest: mark, batch: 'test', condemned_at_ms: Date.now() });
          held.release();
          const response = await put;
          await registry.metadata.db('gc_condemned').del();
          return response;
        };
        const layer = await putHeld(first, sha256(layers[0]!));
        assert.equal(layer.status, 404);
        assert.equal(await errorCode(layer), 'MANIFEST_BLOB_UNKNOWN');
        const own = await putHeld(second, second.digest);
        assert.equal(own.status, 503);
        assert.equal(own.headers.get('retry-after'), '1');
        assert.equal((await fetch(`${registry.url}/v2/team/app/manifests/v1`)).status, 404, 'neither was stored');
        assert.ok(await pushImage(registry.url, 'team/app', 'v1', second));
        await assertImagePulls(registry.url, 'team/app', 'v1', second);
      }));

    it('a mark older than the stale limit does not hold a push, and its collector then puts the bytes back', () =>
      withGatedRegistry(dialect, async (registry, gate) => {
        const blob = Buffer.from('bytes of a stalled collector\n'.repeat(100));
        const digest = sha256(blob);
        assert.equal(await uploadBlob(registry.url, 'team/app', blob), 201);
        const collector = await collectorHeldAtMove(registry, gate, digest);
        // The collector stalls past the stale limit before its move: a push takes its mark for a dead one's.
        await registry.metadata.db('gc_condemned').update({ condemned_at_ms: Date.now() - CONDEMNED_STALE_MS - 1000 });
        assert.equal(await uploadBlob(registry.url, 'team/other', blob), 201, 'the push went on at once');
        assert.deepEqual(await condemned(registry), [], 'the push deleted the stale mark');
        collector.release();
        assert.deepEqual((await collector.run).blobs, [], 'the collector found its mark gone and freed nothing');
        await assertBlobPulls(registry, 'team/other', digest);
        assert.deepEqual(await readdir(join(registry.blobRoot, 'gc-trash')).catch(() => []), [], 'nothing left in the trash');
      }));

    it('a fresh mark with no collector behind it holds a push until it ends; a stale one goes at the next run', () =>
      withGatedRegistry(dialect, async (registry) => {
        const blob = Buffer.from('bytes under a mark\n'.repeat(100));
        const digest = sha256(blob);
        await registry.metadata.db('gc_condemned').insert({ digest, batch: 'test', condemned_at_ms: Date.now() });
        let answered = false;
        const upload = uploadBlob(registry.url, 'team/app', blob).finally(() => (answered = true));
        await sleep(300);
        assert.equal(answered, false);
        await registry.metadata.db('gc_condemned').where({ digest }).del();
        assert.equal(await upload, 201);
        // A run's start removes marks killed collectors left, once they are stale; fresh ones stay.
        await registry.metadata.db('gc_condemned').insert([
          { digest: sha256('stale'), batch: 'dead', condemned_at_ms: Date.now() - CONDEMNED_STALE_MS - 1000 },
          { digest: sha256('fresh'), batch: 'live', condemned_at_ms: Date.now() },
        ]);
        await registry.collector().run();
        assert.deepEqual(await condemned(registry), [sha256('fresh')]);
      }));
  });
}

async function condemned(registry: LifecycleRegistry): Promise<string[]> {
  const rows: Array<{ digest: string }> = await registry.metadata.db('gc_condemned').select('digest').orderBy('digest');
  return rows.map((row) => row.digest);
}
