// Slow clients against the registry as main.ts wires it (with its connection timeouts
// shortened through startRegistryService's `timeouts`): a slowloris sending its headers
// one byte at a time is cut off by the headers timeout, a body that stalls is cut off by
// the idle timeout (and its partial chunk discarded), and a crowd of slow connections does
// not starve a normal client. The waits below are liveness deadlines far beyond the
// configured timeouts, not timing assertions.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildImage, digestOf, pushImage } from '../../api/registry/harness.js';
import { assertRegistryUp, rawExchange, requestHead } from '../raw-http.js';
import { startRegistry, type RegistryUnderTest } from '../services.js';

const HEADERS_TIMEOUT_MS = 1000;
const IDLE_TIMEOUT_MS = 1500;
/** How long a test waits for the server to act before calling it a hang. */
const LIVENESS_DEADLINE_MS = 20_000;

/** A connection that sends an endless request head, one byte every `intervalMs`. */
interface Slowloris {
  socket: net.Socket;
  /** Resolves when the server closes the connection (or the deadline passes: `closed` false). */
  done: Promise<{ closed: boolean; received: string; bytesSent: number }>;
}

function slowloris(url: string, intervalMs: number): Slowloris {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const head = `GET /v2/ HTTP/1.1\r\nHost: registry.test\r\nX-Slow: ${'a'.repeat(100_000)}`;
  let sent = 0;
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const trickle = setInterval(() => {
    if (socket.writable) socket.write(head[sent++ % head.length]!);
  }, intervalMs);
  const done = new Promise<{ closed: boolean; received: string; bytesSent: number }>((resolve) => {
    const deadline = setTimeout(() => finish(false), LIVENESS_DEADLINE_MS);
    function finish(closed: boolean) {
      clearInterval(trickle);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ closed, received, bytesSent: sent });
    }
    socket.on('close', () => finish(true));
  });
  return { socket, done };
}

describe('slow clients', () => {
  let registry: RegistryUnderTest;
  before(async () => {
    registry = await startRegistry({ timeouts: { headersMs: HEADERS_TIMEOUT_MS, idleMs: IDLE_TIMEOUT_MS } });
  });
  after(() => registry?.close());

  it('a slowloris sending headers byte by byte is cut off by the headers timeout with 408', async () => {
    const result = await slowloris(registry.url, 50).done;
    assert.ok(result.closed, `still connected after ${LIVENESS_DEADLINE_MS} ms and ${result.bytesSent} header bytes`);
    assert.match(result.received, /^HTTP\/1\.1 408 /);
    await assertRegistryUp(registry.url);
  });

  it('a body that stalls is cut off by the idle timeout and its partial chunk discarded', async () => {
    const start = await fetch(`${registry.url}/v2/slow/stall/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location')!;
    const exchange = await rawExchange(registry.url, [requestHead('PATCH', location, { 'Content-Length': 10_000 }), randomBytes(4000)], { deadlineMs: LIVENESS_DEADLINE_MS });
    assert.ok(exchange.closed, 'the stalled upload still holds its connection');
    // The session is back at 0: a chunk starting there is accepted and completes the blob.
    const chunk = randomBytes(10);
    const patch = await fetch(`${registry.url}${location}`, { method: 'PATCH', body: chunk, headers: { 'Content-Range': '0-9' } });
    assert.equal(patch.status, 202, await patch.text());
    assert.equal((await fetch(`${registry.url}${location}?digest=${digestOf(chunk)}`, { method: 'PUT' })).status, 201);
  });

  describe('a crowd of slow connections', () => {
    /** Headers timeout long enough that the crowd is certainly still there while the normal client works. */
    const CROWD_HEADERS_TIMEOUT_MS = 15_000;
    const CROWD = 100;
    let patient: RegistryUnderTest;
    before(async () => {
      patient = await startRegistry({ timeouts: { headersMs: CROWD_HEADERS_TIMEOUT_MS } });
    });
    after(() => patient?.close());

    it(`${CROWD} slowloris connections do not starve a normal push and pull`, async () => {
      const crowd = Array.from({ length: CROWD }, () => slowloris(patient.url, 200));
      try {
        await new Promise<void>((resolve) => setTimeout(resolve, 300));
        const image = buildImage({ seed: 'crowd', layers: 2 });
        const digest = await pushImage(patient.url, 'slow/crowd', 'v1', image);
        const pulled = await fetch(`${patient.url}/v2/slow/crowd/manifests/v1`);
        assert.equal(pulled.status, 200);
        assert.equal(pulled.headers.get('docker-content-digest'), digest);
        await pulled.arrayBuffer();
        const open = await new Promise<number>((resolve, reject) => patient.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
        assert.ok(open >= CROWD, `only ${open} connections open: the crowd was gone before the normal client finished`);
      } finally {
        for (const slow of crowd) slow.socket.destroy();
        await Promise.all(crowd.map((slow) => slow.done));
      }
      await assertRegistryUp(patient.url);
    });
  });
});
