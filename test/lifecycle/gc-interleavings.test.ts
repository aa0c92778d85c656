/**
 * The two windows where a push and the collector meet, forced open on purpose: a storage
 * gate holds the push at the worst moment while a collector (running ahead of the grace
 * period, so nothing protects the push's digests) deletes what it can. The push must then
 * fail cleanly, never be acknowledged over missing content. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertImagePulls, digestsOnDisk, makeImage, pushImage, sha256, skipReason, startLifecycleRegistry, type StorageOp, uploadBlob } from './harness.js';

const GRACE_SECONDS = 2;
const AHEAD_MS = 10_000;

/** Holds the first storage operation `op` on a path matching `match` until released. */
class Gate {
  private armed: { op: StorageOp; match: RegExp; reached: () => void; held: Promise<void> } | null = null;
  readonly hook = async (op: StorageOp, path: string): Promise<void> => {
    const armed = this.armed;
    if (!armed || armed.op !== op || !armed.match.test(path)) return;
    this.armed = null;
    armed.reached();
    await armed.held;
  };

  /** Arms the gate; `reached` resolves when an operation is held, `release` lets it go. */
  arm(op: StorageOp, match: RegExp): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    this.armed = { op, match, reached, held };
    return { reached: reachedPromise, release };
  }
}

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: Array<{ code: string }> };
  return body.errors?.[0]?.code;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipReason(dialect);
  describe(`push and collector interleavings (${dialect})`, { skip }, () => {
    it('a manifest whose layers were collected after its first check is refused, not stored', async () => {
      const gate = new Gate();
      const registry = await startLifecycleRegistry(dialect, GRACE_SECONDS, { storageHook: gate.hook });
      try {
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
      } finally {
        await registry.close();
      }
    });

    it('an upload whose bytes were collected between their move and their link answers an error, not 201', async () => {
      const gate = new Gate();
      const registry = await startLifecycleRegistry(dialect, GRACE_SECONDS, { storageHook: gate.hook });
      try {
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
      } finally {
        await registry.close();
      }
    });
  });
}
