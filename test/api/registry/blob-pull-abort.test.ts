// A client that hangs up in the middle of a blob download must not leave the blob's file
// open (a leak per aborted pull would exhaust descriptors on a busy registry), and must
// not disturb the bytes later downloads receive.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, uploadBlob, type TestRegistry } from './harness.js';

/** Descriptors of this process that point at `path`. */
function openDescriptorsOf(path: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) open.push(fd);
    } catch {
      // Closed between listing and reading.
    }
  }
  return open;
}

/** Waits (bounded) until no descriptor points at `path`; returns those still open at the end. */
async function descriptorsLeftOpen(path: string): Promise<string[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = openDescriptorsOf(path);
    if (open.length === 0) return open;
    await sleep(50);
  }
  return openDescriptorsOf(path);
}

/** Starts a GET, reads the headers and `bytes` body bytes, then destroys the connection. */
function pullThenHangUp(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= bytes) {
          request.destroy();
          resolve(received);
        }
      });
      response.on('error', () => undefined);
      response.on('end', () => reject(new Error('the whole body arrived before the hang-up')));
    });
    request.on('error', () => undefined);
  });
}

describe('aborted blob downloads (filesystem storage)', () => {
  let registry: TestRegistry;
  // Far more than loopback socket buffers hold, so the server is mid-body at the hang-up.
  const content = randomBytes(48 * 1024 * 1024 + 5);
  let digest: string;
  let dataPath: string;

  before(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    digest = await uploadBlob(registry.url, 'team/app', content);
    const [algorithm, encoded] = digest.split(':') as [string, string];
    const root = registry.config.storage.driver === 'filesystem' ? registry.config.storage.rootDirectory : '';
    dataPath = join(root, 'blobs', algorithm, encoded.slice(0, 2), encoded, 'data');
  });
  after(() => registry.close());

  it('closes the blob file after a hang-up mid-body, for a full GET and a range', async () => {
    const url = `${registry.url}/v2/team/app/blobs/${digest}`;
    assert.ok((await pullThenHangUp(url, 1)) < content.length);
    assert.deepEqual(await descriptorsLeftOpen(dataPath), [], 'blob file still open after the client hung up');
    const ranged = new Promise<number>((resolve, reject) => {
      const request = http.get(url, { agent: false, headers: { Range: 'bytes=1000-' } }, (response) => {
        assert.equal(response.statusCode, 206);
        response.once('data', (chunk: Buffer) => {
          request.destroy();
          resolve(chunk.length);
        });
        response.on('error', () => undefined);
      });
      request.on('error', reject);
    });
    await ranged;
    assert.deepEqual(await descriptorsLeftOpen(dataPath), [], 'blob file still open after a ranged pull was cut');
  });

  it('serves exact bytes after many downloads were cut at different points', async () => {
    const url = `${registry.url}/v2/team/app/blobs/${digest}`;
    for (const cut of [1, 100_000, 2 * 1024 * 1024, 5 * 1024 * 1024 + 3]) await pullThenHangUp(url, cut);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(content), 'bytes differ after aborted downloads');
    assert.deepEqual(await descriptorsLeftOpen(dataPath), []);
  });
});
