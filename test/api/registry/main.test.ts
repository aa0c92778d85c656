// The registry process (services/registry/main.ts): starts from the environment, serves
// HTTP and HTTPS, refuses bad configuration, and on SIGTERM finishes in-flight requests
// before it exits.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Started {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Resolves with the first log line whose msg is `msg`. */
  logged(msg: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/registry/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; resolve: (line: Record<string, unknown>) => void }> = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
  });
  const logged = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find((line) => line.msg === msg);
      if (seen) resolve(seen);
      else waiters.push({ msg, resolve });
    });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return Promise.race([
    logged('listening').then((line) => ({ child, url: String(line.url), logged, exited })),
    exited.then((code) => {
      throw new Error(`registry exited with ${code} before listening: ${stderr}`);
    }),
  ]);
}

describe('registry main', () => {
  let dir: string;
  let running: Started | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dockyard-main-'));
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    running = undefined;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses bad configuration with a message naming the key (exit 2)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/registry/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', DOCKYARD_DATA_DIR: join(dir, 'bad'), REGISTRY_AUTH: 'kerberos' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /REGISTRY_AUTH/);
  });

  it('serves /v2/ on the configured address and finishes an in-flight upload after SIGTERM', async () => {
    running = await startMain({ REGISTRY_HTTP_ADDR: '127.0.0.1:0', DOCKYARD_DATA_DIR: join(dir, 'graceful') });
    const { url } = running;
    const base = await fetch(`${url}/v2/`);
    assert.equal(base.status, 200);
    assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0');
    const access = await running.logged('request');
    assert.equal(access.route, '/v2/');
    assert.equal(access.status, 200);

    const location = (await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const target = new URL(location, url);
    const response = new Promise<{ status: number; range: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'PATCH', headers: { 'Transfer-Encoding': 'chunked' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, range: res.headers.range }));
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1000, 1));
      // The first half is on the server once the session reports it.
      const waitForFirstHalf = async () => {
        for (;;) {
          const status = await fetch(target);
          if (status.headers.get('range') === '0-999') return;
          await new Promise((r) => setImmediate(r));
        }
      };
      void waitForFirstHalf().then(async () => {
        running!.child.kill('SIGTERM');
        await running!.logged('shutting down');
        req.end(Buffer.alloc(1000, 2));
      }, reject);
    });
    const finished = await response;
    assert.equal(finished.status, 202);
    assert.equal(finished.range, '0-1999');
    assert.equal(await running.exited, 0);
    await assert.rejects(fetch(`${url}/v2/`));
  });

  it('serves HTTPS when a certificate and key are configured', async (t) => {
    const certificate = join(dir, 'reg.crt');
    const key = join(dir, 'reg.key');
    const openssl = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', '/CN=reg.test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certificate],
      { encoding: 'utf8' },
    );
    if (openssl.error || openssl.status !== 0) {
      if (process.env.CI) assert.fail(`openssl is needed for this test: ${openssl.stderr ?? openssl.error}`);
      t.skip('openssl is not installed');
      return;
    }
    running = await startMain({
      REGISTRY_HTTP_ADDR: '127.0.0.1:0',
      DOCKYARD_DATA_DIR: join(dir, 'tls'),
      REGISTRY_HTTP_TLS_CERTIFICATE: certificate,
      REGISTRY_HTTP_TLS_KEY: key,
    });
    assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = await readFile(certificate);
    const target = new URL('/v2/', running.url);
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: target.hostname, port: target.port, path: target.pathname, ca }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(result.status, 200);
    assert.equal(result.body, '{}');
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0);
  });
});
