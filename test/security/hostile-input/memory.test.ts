// Memory stays bounded under a burst of large hostile requests against the registry as a
// child process (`services/registry/main.ts`, as deployed): endless chunked manifests,
// 4 MiB manifests nested two million levels deep, large uploads that end in a wrong digest,
// and downloads whose clients stop reading. Each carries far more bytes than the bound
// below, so a path that buffered a body (or ignored backpressure) would blow through it;
// the peak resident set (VmHWM) may grow only by that bound.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { digestOf, uploadBlob } from '../../api/registry/harness.js';
import { startRegistry, type RunningService } from '../../e2e/harness/services.js';
import { Workspace } from '../../e2e/harness/workspace.js';
import { assertRegistryUp } from '../raw-http.js';

const MiB = 1024 * 1024;
/** How much the registry's peak memory may grow during the burst. */
const GROWTH_BOUND = 200 * MiB;
const PIECE = randomBytes(MiB);

/** Peak and current resident set of a process, from /proc. */
function memoryOf(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peak: kib('VmHWM'), current: kib('VmRSS') };
}

/**
 * Sends `total` bytes as a chunked body (with backpressure) and resolves with the status,
 * or with 0 when the server closed the connection before answering.
 */
function streamChunked(url: string, method: string, path: string, total: number, headers: Record<string, string> = {}): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (status: number) => {
      if (!settled) {
        settled = true;
        resolve(status);
      }
    };
    const req = request({ host: hostname, port, method, path, headers: { ...headers, 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => settle(res.statusCode ?? 0));
      res.on('error', () => settle(res.statusCode ?? 0));
    });
    req.on('error', () => settle(0));
    let sent = 0;
    const pump = () => {
      while (sent < total && !req.destroyed) {
        sent += PIECE.length;
        if (!req.write(PIECE)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/** Starts a download and reads only its first chunk, then holds the connection for `holdMs`. */
function stalledDownload(url: string, path: string, holdMs: number): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, path }, (res) => {
      res.once('data', () => {
        res.pause();
        setTimeout(() => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        }, holdMs);
      });
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('memory under a burst of large hostile requests (child-process registry)', () => {
  const ws = Workspace.create('security-memory');
  let registry: RunningService;
  let bigBlob: string;
  before(async () => {
    registry = await startRegistry(ws);
    const big = Buffer.concat(Array.from({ length: 32 }, () => PIECE));
    bigBlob = await uploadBlob(registry.url, 'memory/big', big);
  });
  after(() => ws.dispose());

  it(`the peak resident set grows by less than ${GROWTH_BOUND / MiB} MiB while far more hostile bytes arrive`, async (t) => {
    // Warm up every path once, so lazily loaded code and pools are in the baseline.
    await streamChunked(registry.url, 'PUT', '/v2/memory/m/manifests/warm', 5 * MiB, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
    await stalledDownload(registry.url, `/v2/memory/big/blobs/${bigBlob}`, 10);
    const before = memoryOf(registry.process.pid);

    const manifestType = { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
    const deep = Buffer.from('['.repeat(2_000_000) + ']'.repeat(2_000_000));
    const burst: Array<Promise<unknown>> = [];
    let hostileBytes = 0;
    for (let i = 0; i < 12; i++) {
      burst.push(streamChunked(registry.url, 'PUT', `/v2/memory/m/manifests/endless-${i}`, 64 * MiB, manifestType));
      hostileBytes += 64 * MiB;
    }
    for (let i = 0; i < 8; i++) {
      burst.push(fetch(`${registry.url}/v2/memory/m/manifests/deep-${i}`, { method: 'PUT', body: deep, headers: manifestType }).then((r) => r.arrayBuffer()));
      hostileBytes += deep.length;
    }
    for (let i = 0; i < 8; i++) {
      burst.push(
        (async () => {
          const start = await fetch(`${registry.url}/v2/memory/upload-${i}/blobs/uploads/`, { method: 'POST' });
          const location = start.headers.get('location')!;
          assert.equal(await streamChunked(registry.url, 'PATCH', location, 48 * MiB), 202);
          const put = await fetch(`${registry.url}${location}?digest=${digestOf('not these bytes')}`, { method: 'PUT' });
          assert.equal(put.status, 400);
          await put.arrayBuffer();
        })(),
      );
      hostileBytes += 48 * MiB;
    }
    for (let i = 0; i < 8; i++) {
      burst.push(stalledDownload(registry.url, `/v2/memory/big/blobs/${bigBlob}`, 1500).then((status) => assert.equal(status, 200)));
      hostileBytes += 32 * MiB;
    }
    await Promise.all(burst);

    const afterBurst = memoryOf(registry.process.pid);
    const growth = afterBurst.peak - before.peak;
    t.diagnostic(`peak RSS ${(before.peak / MiB).toFixed(0)} → ${(afterBurst.peak / MiB).toFixed(0)} MiB for ${(hostileBytes / MiB).toFixed(0)} MiB of hostile requests`);
    assert.ok(hostileBytes > 5 * GROWTH_BOUND, 'the burst must dwarf the bound for the check to mean anything');
    assert.ok(
      growth < GROWTH_BOUND,
      `peak RSS grew by ${(growth / MiB).toFixed(0)} MiB (from ${(before.peak / MiB).toFixed(0)} to ${(afterBurst.peak / MiB).toFixed(0)} MiB) for ${(hostileBytes / MiB).toFixed(0)} MiB of hostile requests`,
    );
    await assertRegistryUp(registry.url);
  });
});
