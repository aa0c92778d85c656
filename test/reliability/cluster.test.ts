/**
 * DOCKYARD_WORKERS=2: the registry, the auth service and the combined launcher as real
 * node:cluster processes on 127.0.0.1.
 *
 * That both workers serve is shown by their bytes read (rchar in /proc/<pid>/io): requests
 * go out on fresh connections, the primary hands connections to workers in turn, and each
 * worker must have read at least one request's bytes; an idle worker reads nothing. Upload
 * sessions are shared through the disk, so chunks landing on either worker must make one
 * intact blob, and two PATCHes at one offset must never both be applied (one 416). A
 * SIGKILLed worker is replaced while the other answers; SIGTERM on the primary lets an
 * in-flight upload finish, stops every worker and exits 0.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { freePort } from '../e2e/harness/ports.js';
import { Workspace } from '../e2e/harness/workspace.js';
import { alive, bytesRead, listeningUrl, startCluster, waitForWorkers, type ClusterProcess } from './support/cluster-process.js';
import { SyntheticContent } from './support/content.js';
import { download, errorCode, explain, send } from './support/http.js';
import { locationOf, OciClient, rangeEnd } from './support/oci-client.js';

const KIB = 1024;
const READY = 'all workers serving';

/** An agent that opens a new connection for every request, so the primary picks a worker each time. */
const freshConnections = (): Agent => new Agent({ keepAlive: false });

/** Bytes read so far by each of `pids`. */
function readSoFar(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, bytesRead(pid)]));
}

/** Asserts that every worker read at least `minimum` bytes since `before`. */
function assertEachRead(before: Map<number, number>, minimum: number, what: string): void {
  for (const [pid, start] of before) {
    const read = bytesRead(pid) - start;
    assert.ok(read >= minimum, `worker ${pid} read ${read} bytes during ${what}, expected at least ${minimum}: not served by both workers`);
  }
}

/** SIGTERMs the primary and checks it exits 0 with every worker gone. */
async function stopsCleanly(primary: ClusterProcess, workers: number[]): Promise<void> {
  process.kill(primary.pid, 'SIGTERM');
  const exit = await primary.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, primary.log());
  for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} outlived the primary`);
  assert.match(primary.log(), /"msg":"all workers stopped"/);
}

describe('registry with DOCKYARD_WORKERS=2', () => {
  const ws = Workspace.create('cluster-registry');
  let primary: ClusterProcess;
  let client: OciClient;
  after(() => ws.dispose());

  before(async () => {
    primary = await startCluster(
      ws,
      'registry',
      'services/registry/main.ts',
      { DOCKYARD_WORKERS: '2', DOCKYARD_DATA_DIR: ws.path('data'), REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_AUTH: 'none' },
      READY,
    );
    client = new OciClient(listeningUrl(primary.log()), freshConnections());
  });

  it('spreads connections over both workers; a blob PATCHed in chunks over both is intact', async () => {
    const workers = await waitForWorkers(primary.pid, 2);
    const chunk = 256 * KIB;
    const blob = new SyntheticContent('cluster-chunks', 12 * chunk + 1234);
    const started = await client.startUpload('cluster/chunks');
    assert.equal(started.status, 202, explain(started));
    let location = locationOf(started)!;
    const before = readSoFar(workers);
    for (let at = 0; at < blob.size; at += chunk) {
      const end = Math.min(blob.size, at + chunk);
      const answer = await client.patch(location, blob, at, end);
      assert.equal(answer.status, 202, explain(answer));
      assert.equal(rangeEnd(answer.headers.range), end - 1);
      location = locationOf(answer) ?? location;
    }
    assertEachRead(before, chunk, 'the chunked upload');
    const done = await client.complete(location, blob, blob.size);
    assert.equal(done.status, 201, explain(done));
    const pulled = await client.pullBlob('cluster/chunks', blob.digest());
    assert.equal(pulled.status, 200);
    assert.equal(pulled.size, blob.size);
    assert.equal(pulled.digest, blob.digest());
  });

  it('applies exactly one of two PATCHes at the same offset; the other gets 416', async () => {
    for (let round = 0; round < 4; round++) {
      const first = new SyntheticContent(`race-${round}-a`, 512 * KIB);
      const second = new SyntheticContent(`race-${round}-b`, 512 * KIB);
      const started = await client.startUpload('cluster/race');
      assert.equal(started.status, 202, explain(started));
      const location = locationOf(started)!;
      const answers = await Promise.all([client.patch(location, first, 0, first.size), client.patch(location, second, 0, second.size)]);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [202, 416], answers.map(explain).join('\n'));
      const refused = answers.find((a) => a.status === 416)!;
      assert.equal(errorCode(refused.body), 'RANGE_INVALID');
      assert.equal(rangeEnd(refused.headers.range), first.size - 1);
      const winner = answers[0].status === 202 ? first : second;
      const status = await client.status(location);
      assert.equal(rangeEnd(status.headers.range), winner.size - 1, explain(status));
      const done = await client.complete(location, winner, winner.size);
      assert.equal(done.status, 201, explain(done));
      const pulled = await client.pullBlob('cluster/race', winner.digest());
      assert.equal(pulled.digest, winner.digest());
      assert.equal(pulled.size, winner.size);
    }
  });

  it('replaces a SIGKILLed worker while the other keeps answering', async () => {
    const [victim, survivor] = await waitForWorkers(primary.pid, 2);
    process.kill(victim, 'SIGKILL');
    // A connection the primary hands to a worker in the instant it dies is lost with it
    // (node:cluster): the promise is that once the primary noticed, every request is served.
    while (!primary.log().includes('"msg":"worker died unexpectedly, restarting it"')) await sleep(10);
    for (let i = 0; i < 10; i++) {
      const answer = await send(`${client.base}/v2/`, { agent: freshConnections() });
      assert.equal(answer.status, 200, explain(answer));
    }
    const workers = await waitForWorkers(primary.pid, 2, (pids) => !pids.includes(victim));
    assert.ok(workers.includes(survivor));
    while (!primary.log().includes('"msg":"worker restarted"')) await sleep(50);
    assert.match(primary.log(), /"exit":"signal SIGKILL".*"msg":"worker died unexpectedly, restarting it"/);
    const replacement = workers.find((pid) => pid !== survivor)!;
    const before = readSoFar([replacement]);
    for (let i = 0; i < 10; i++) {
      const answer = await send(`${client.base}/v2/`, { agent: freshConnections() });
      assert.equal(answer.status, 200, explain(answer));
    }
    assertEachRead(before, 100, 'requests after the restart');
  });

  it('on SIGTERM finishes an in-flight upload, stops both workers and exits 0', async () => {
    const workers = await waitForWorkers(primary.pid, 2);
    const blob = new SyntheticContent('cluster-in-flight', 512 * KIB);
    const started = await client.startUpload('cluster/inflight');
    assert.equal(started.status, 202, explain(started));
    const body = new PassThrough();
    const pieces = [...blob.pieces()];
    body.write(pieces[0].subarray(0, 256 * KIB));
    const patching = send(`${client.base}${locationOf(started)!}`, {
      method: 'PATCH',
      agent: freshConnections(),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${blob.size - 1}`, 'Content-Length': blob.size },
      body,
    });
    await sleep(300);
    process.kill(primary.pid, 'SIGTERM');
    await sleep(300);
    body.end(pieces[0].subarray(256 * KIB));
    const answer = await patching;
    assert.equal(answer.status, 202, explain(answer));
    assert.equal(rangeEnd(answer.headers.range), blob.size - 1);
    const exit = await primary.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, primary.log());
    for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} outlived the primary`);
  });
});

/** Basic credentials header value. */
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The one generated admin password printed in `log`; fails unless printed exactly once. */
function announcedPassword(log: string): string {
  const lines = [...log.matchAll(/created the first admin user "admin" with password: (\S+)/g)];
  assert.equal(lines.length, 1, `the admin password must be printed exactly once:\n${log}`);
  return lines[0][1];
}

describe('auth service with DOCKYARD_WORKERS=2', () => {
  const ws = Workspace.create('cluster-auth');
  let primary: ClusterProcess;
  let url: string;
  after(() => ws.dispose());

  before(async () => {
    primary = await startCluster(
      ws,
      'auth',
      'services/auth/main.ts',
      { DOCKYARD_WORKERS: '2', DOCKYARD_DATA_DIR: ws.path('data'), AUTH_HTTP_ADDR: '127.0.0.1:0', AUTH_BCRYPT_COST: '4' },
      READY,
    );
    url = listeningUrl(primary.log());
  });

  it('issues tokens from both workers with one key, audits every one, and stops on SIGTERM', async () => {
    const password = announcedPassword(primary.log());
    const workers = await waitForWorkers(primary.pid, 2);
    const before = readSoFar(workers);
    const requests = 16;
    const kids = new Set<string>();
    for (let i = 0; i < requests; i++) {
      const answer = await send(`${url}/token?service=dockyard&scope=repository:team/app${i}:pull,push`, {
        agent: freshConnections(),
        headers: { Authorization: basic('admin', password) },
      });
      assert.equal(answer.status, 200, explain(answer));
      const token = (JSON.parse(answer.body.toString('utf8')) as { token: string }).token;
      kids.add((JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { kid: string }).kid);
    }
    assertEachRead(before, 500, 'the token requests');
    const jwks = JSON.parse((await send(`${url}/.well-known/jwks.json`, { agent: freshConnections() })).body.toString('utf8')) as { keys: Array<{ kid: string }> };
    assert.deepEqual([...kids], [jwks.keys[0].kid]);

    const db = new Database(ws.path('data', 'auth', 'auth.sqlite'), { readonly: true });
    try {
      const row = db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'token.issue' AND actor = 'admin'").get() as { n: number };
      assert.equal(row.n, requests);
    } finally {
      db.close();
    }
    await stopsCleanly(primary, workers);
  });
});

describe('npm start (services/main.ts) with DOCKYARD_WORKERS=2', () => {
  const ws = Workspace.create('cluster-main');
  after(() => ws.dispose());

  it('prepares once, serves token-protected pushes from both workers and stops on SIGTERM', async () => {
    const authPort = await freePort();
    const primary = await startCluster(
      ws,
      'dockyard',
      'services/main.ts',
      { DOCKYARD_WORKERS: '2', DOCKYARD_DATA_DIR: ws.path('data'), REGISTRY_HTTP_ADDR: '127.0.0.1:0', AUTH_HTTP_ADDR: `127.0.0.1:${authPort}`, WEB_HTTP_ADDR: '127.0.0.1:0', AUTH_BCRYPT_COST: '4' },
      'Dockyard is running',
    );
    const log = primary.log();
    const password = announcedPassword(log);
    // The web UI is served by the first worker alone (its sessions are in memory).
    const banners = [...log.matchAll(/^Dockyard is running: registry (\S+) \(auth: token\), auth service ([^\s,]+), web UI (\S+)$/gm)];
    assert.equal(banners.length, 1, log);
    const [, registryUrl, authUrl] = banners[0];
    assert.equal(authUrl, `http://127.0.0.1:${authPort}`);

    const workers = await waitForWorkers(primary.pid, 2);
    const refused = await send(`${registryUrl}/v2/`, { agent: freshConnections() });
    assert.equal(refused.status, 401);
    assert.match(String(refused.headers['www-authenticate']), new RegExp(`realm="${authUrl}/token"`));

    const repo = 'team/app';
    const tokenAnswer = await send(`${authUrl}/token?service=dockyard&scope=repository:${repo}:pull,push`, {
      agent: freshConnections(),
      headers: { Authorization: basic('admin', password) },
    });
    assert.equal(tokenAnswer.status, 200, explain(tokenAnswer));
    const token = (JSON.parse(tokenAnswer.body.toString('utf8')) as { token: string }).token;
    const blobs = [0, 1, 2, 3].map((i) => new SyntheticContent(`cluster-main-${i}`, 64 * KIB));
    const before = readSoFar(workers);
    for (const blob of blobs) {
      const pushed = await send(`${registryUrl}/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(blob.digest())}`, {
        method: 'POST',
        agent: freshConnections(),
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream', 'Content-Length': blob.size },
        body: blob.stream(),
      });
      assert.equal(pushed.status, 201, explain(pushed));
    }
    assertEachRead(before, 64 * KIB, 'the pushes');
    for (const blob of blobs) {
      const pulled = await download(`${registryUrl}/v2/${repo}/blobs/${blob.digest()}`, { agent: freshConnections(), headers: { Authorization: `Bearer ${token}` } });
      assert.equal(pulled.status, 200, explain(pulled));
      assert.equal(pulled.digest, blob.digest());
    }
    await stopsCleanly(primary, workers);
  });
});
