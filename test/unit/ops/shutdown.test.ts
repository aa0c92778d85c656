// Graceful shutdown on real sockets: in-flight requests finish, new connections are refused,
// stragglers are cut at the deadline, the close hook runs once, and the exit code is reported.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { silentLogger } from '../../../shared/observability/logger.js';
import { gracefulShutdown } from '../../../shared/process/shutdown.js';

interface Harness {
  server: http.Server;
  port: number;
  /** Resolves when the next request reached the handler. */
  nextStarted: () => Promise<void>;
  /** Lets every waiting handler answer. */
  release: () => void;
}

/** A server whose `/fast` answers at once and whose other paths wait for release(); `sent` hears each finished slow response. */
async function startServer(sent: () => void = () => undefined): Promise<Harness> {
  let started: () => void = () => undefined;
  const waiting: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    started();
    if (req.url === '/fast') {
      res.end('fast');
      return;
    }
    res.on('finish', sent);
    waiting.push(() => res.end('finished'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    nextStarted: () => new Promise<void>((resolve) => (started = resolve)),
    release: () => waiting.splice(0).forEach((answer) => answer()),
  };
}

function get(port: number, path: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('gracefulShutdown', () => {
  it('lets an in-flight request finish, refuses new connections, then closes and exits 0', async () => {
    const events: string[] = [];
    const h = await startServer(() => events.push('response sent'));
    // The client keeps its connection open after the response; the server must close it
    // itself rather than wait for the keep-alive timeout or the deadline.
    h.server.keepAliveTimeout = 10 * 60_000;
    const logged: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logged.push(chunk.toString('utf8'));
        callback();
      },
    });
    const agent = new http.Agent({ keepAlive: true });
    const shutdown = gracefulShutdown(h.server, {
      deadlineMs: 20_000,
      signals: [],
      logger: pino({ level: 'info' }, sink),
      onClose: async () => {
        events.push('onClose');
      },
      exit: (code) => events.push(`exit ${code}`),
    });

    const started = h.nextStarted();
    const inFlight = get(h.port, '/slow', agent);
    await started;
    const done = shutdown('test');

    await assert.rejects(get(h.port, '/fast'), /ECONNREFUSED/, 'no new connections once shutdown began');
    assert.deepEqual(events, [], 'nothing closes while the request is in flight');

    h.release();
    assert.deepEqual(await inFlight, { status: 200, body: 'finished' });
    await done;
    assert.deepEqual(events, ['response sent', 'onClose', 'exit 0']);
    assert.equal(h.server.listening, false);
    assert.ok(!logged.join('').includes('deadline reached'), 'the idle keep-alive connection was closed, not cut at the deadline');
    agent.destroy();
  });

  it('destroys connections still busy at the deadline and still closes', async () => {
    const h = await startServer();
    const events: string[] = [];
    const shutdown = gracefulShutdown(h.server, {
      deadlineMs: 50,
      signals: [],
      logger: silentLogger(),
      onClose: async () => {
        events.push('onClose');
      },
      exit: (code) => events.push(`exit ${code}`),
    });
    const started = h.nextStarted();
    const stuck = get(h.port, '/never');
    await started;
    await shutdown();
    await assert.rejects(stuck, /socket hang up|ECONNRESET/);
    assert.deepEqual(events, ['onClose', 'exit 0']);
  });

  it('is idempotent: every trigger and signal shares one shutdown', async () => {
    const h = await startServer();
    let closes = 0;
    const exits: number[] = [];
    const baseline = process.listenerCount('SIGUSR2');
    const shutdown = gracefulShutdown(h.server, {
      deadlineMs: 1_000,
      signals: ['SIGUSR2'],
      logger: silentLogger(),
      onClose: async () => {
        closes++;
      },
      exit: (code) => exits.push(code),
    });
    assert.equal(process.listenerCount('SIGUSR2'), baseline + 1);
    process.kill(process.pid, 'SIGUSR2');
    process.kill(process.pid, 'SIGUSR2');
    const first = shutdown('first');
    const second = shutdown('second');
    assert.equal(first, second);
    await first;
    assert.equal(closes, 1);
    assert.deepEqual(exits, [0]);
    assert.equal(process.listenerCount('SIGUSR2'), baseline, 'signal handlers removed after shutdown');
  });

  it('starts on a signal alone', async () => {
    const h = await startServer();
    const exited = new Promise<number>((resolve) => {
      gracefulShutdown(h.server, { deadlineMs: 1_000, signals: ['SIGUSR2'], logger: silentLogger(), onClose: async () => undefined, exit: resolve });
    });
    process.kill(process.pid, 'SIGUSR2');
    assert.equal(await exited, 0);
    assert.equal(h.server.listening, false);
  });

  it('closes several servers and exits 1 when the close hook fails', async () => {
    const a = await startServer();
    const b = await startServer();
    const exits: number[] = [];
    const shutdown = gracefulShutdown([a.server, b.server], {
      deadlineMs: 1_000,
      signals: [],
      logger: silentLogger(),
      onClose: async () => {
        throw new Error('database would not close');
      },
      exit: (code) => exits.push(code),
    });
    await shutdown();
    assert.equal(a.server.listening, false);
    assert.equal(b.server.listening, false);
    assert.deepEqual(exits, [1]);
  });
});
