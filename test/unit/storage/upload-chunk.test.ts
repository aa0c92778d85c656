// streamChunk: a request body goes to the writer in few large vectored writes, byte-exact,
// hashed exactly as written, and a failing write surfaces only after no write is running.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { FileWriter } from '../../../services/registry/storage/driver.js';
import { streamChunk } from '../../../services/registry/storage/upload-chunk.js';

const KiB = 1024;

/** A FileWriter keeping what it receives, one entry per write or writev call. */
class RecordingWriter implements FileWriter {
  readonly calls: Buffer[] = [];
  running = 0;
  failOnCall: number | null = null;

  get size(): number {
    return this.calls.reduce((sum, call) => sum + call.length, 0);
  }

  async write(chunk: Buffer): Promise<void> {
    await this.writev([chunk]);
  }

  async writev(chunks: readonly Buffer[]): Promise<void> {
    assert.equal(this.running, 0, 'two writes ran at once');
    this.running += 1;
    try {
      // Copied, so the record cannot change if the caller's buffers later do.
      const joined = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failOnCall === this.calls.length) throw Object.assign(new Error('injected'), { code: 'EIO' });
      this.calls.push(joined);
    } finally {
      this.running -= 1;
    }
  }

  async commit(): Promise<void> {}
  async close(): Promise<void> {}
  async suspend(): Promise<void> {}
  async cancel(): Promise<void> {}
  async truncate(): Promise<void> {}
}

describe('streamChunk', () => {
  it('writes a body of small pieces in batches of at least 256 KiB, byte-exact and hashed', async () => {
    const pieces = Array.from({ length: 161 }, () => randomBytes(16 * KiB));
    const whole = Buffer.concat(pieces);
    const writer = new RecordingWriter();
    const hash = createHash('sha256');
    await streamChunk(writer, Readable.from(pieces), hash, whole.length);
    assert.ok(Buffer.concat(writer.calls).equals(whole));
    assert.equal(hash.digest('hex'), createHash('sha256').update(whole).digest('hex'));
    assert.equal(writer.calls.length, 11, `write sizes: ${writer.calls.map((call) => call.length).join(', ')}`);
    for (const call of writer.calls.slice(0, -1)) assert.ok(call.length >= 256 * KiB);
  });

  it('reports a failed write only once no write is running, and stops reading', async () => {
    const pieces = Array.from({ length: 200 }, () => randomBytes(64 * KiB));
    const writer = new RecordingWriter();
    writer.failOnCall = 1;
    await assert.rejects(streamChunk(writer, Readable.from(pieces), null), /injected/);
    assert.equal(writer.running, 0);
    assert.equal(writer.calls.length, 1);
  });

  it('writes what a paused sender sent before the body ends', async () => {
    const writer = new RecordingWriter();
    const paused = new PassThrough();
    const streaming = streamChunk(writer, paused, null);
    paused.write(Buffer.alloc(1000, 1));
    for (let attempt = 0; attempt < 200 && writer.size < 1000; attempt++) await sleep(10);
    assert.equal(writer.size, 1000, 'the first 1000 bytes never reached the writer while the body stayed open');
    paused.end(Buffer.alloc(1000, 2));
    await streaming;
    assert.equal(writer.size, 2000);
  });

  it('refuses a body longer than declared before writing past the declared length', async () => {
    const writer = new RecordingWriter();
    await assert.rejects(streamChunk(writer, Readable.from([randomBytes(10), randomBytes(10)]), null, 15), /longer than the declared 15 bytes/);
    assert.equal(writer.size, 0);
  });
});
