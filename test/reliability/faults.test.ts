/**
 * Faults below the registry: storage that fills up (a real 8 MiB tmpfs when this may mount
 * one, else injected ENOSPC) or fails with I/O errors, a SQLite database locked by another
 * connection for longer than the busy timeout, and a PostgreSQL server that becomes
 * unreachable. Each must give a clear JSON 5xx (507 STORAGE_FULL, 503 UNAVAILABLE with
 * Retry-After for the database), leave nothing half-visible (no blob, no link, no tag),
 * keep reads of what is stored working, and recover once the fault is gone, with the
 * process still up throughout.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Workspace } from '../e2e/harness/workspace.js';
import { POSTGRES_URL, postgresUnavailable } from '../support/postgres.js';
import { FilesystemDriver } from '../../services/registry/storage/drivers/filesystem.js';
import { SyntheticContent, sha256 } from './support/content.js';
import { explain, errorCode, isNetworkError, send, type HttpResponse } from './support/http.js';
import { FaultyDriver } from './support/faulty-driver.js';
import { startInProcessRegistry } from './support/in-process.js';
import { locationOf, OciClient, rangeEnd } from './support/oci-client.js';
import { registryService } from './support/services.js';
import { smallDisk } from './support/small-disk.js';
import { auditRegistryStore } from './support/store-audit.js';
import { TcpProxy } from './support/tcp-proxy.js';

const KIB = 1024;
const MIB = 1024 * 1024;

const ws = Workspace.create('reliability-faults');
const agent = new Agent({ keepAlive: true });
after(async () => {
  agent.destroy();
  await ws.dispose();
});

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function expectStatus(response: HttpResponse, status: number, what: string): void {
  assert.equal(response.status, status, `${what}: ${explain(response)}`);
}

/** A JSON error envelope with this status and code (a HEAD answer has the headers only). */
function expectError(response: HttpResponse, status: number, code: string, what: string, method = 'GET'): void {
  assert.equal(response.status, status, `${what}: expected ${status} ${code}, got ${explain(response)}`);
  assert.match(header(response, 'content-type') ?? '', /^application\/json/, `${what}: error is not JSON`);
  if (method !== 'HEAD') assert.equal(errorCode(response.body), code, `${what}: ${explain(response)}`);
}

/** 503 UNAVAILABLE with a Retry-After a client can honour. */
function expectUnavailable(response: HttpResponse, what: string, method = 'GET'): void {
  expectError(response, 503, 'UNAVAILABLE', what, method);
  assert.match(header(response, 'retry-after') ?? '', /^\d+$/, `${what}: 503 without Retry-After`);
}

/** A small image pushed before a fault, that must stay readable through it. */
interface PushedImage {
  config: SyntheticContent;
  layer: SyntheticContent;
  manifest: Buffer;
}

/** Pushes a small image (config, one layer, manifest at `tag`); returns its parts. */
async function pushImage(client: OciClient, repo: string, tag: string, key: string): Promise<PushedImage> {
  const config = new SyntheticContent(`${key}-config`, 2 * KIB);
  const layer = new SyntheticContent(`${key}-layer`, MIB);
  for (const blob of [config, layer]) expectStatus(await client.monolithic(repo, blob), 201, `push ${blob.key}`);
  const manifest = OciClient.imageManifest({ digest: config.digest(), size: config.size }, [{ digest: layer.digest(), size: layer.size }]);
  expectStatus(await client.putManifest(repo, tag, manifest), 201, `push manifest ${repo}:${tag}`);
  return { config, layer, manifest };
}

/** The image is still served whole. */
async function expectImageServed(client: OciClient, repo: string, tag: string, image: PushedImage): Promise<void> {
  const manifest = await client.getManifest(repo, tag);
  expectStatus(manifest, 200, `read ${repo}:${tag}`);
  assert.ok(manifest.body.equals(image.manifest), `${repo}:${tag} serves other bytes`);
  for (const blob of [image.config, image.layer]) {
    const pulled = await client.pullBlob(repo, blob.digest());
    assert.equal(pulled.status, 200, `read ${blob.key}: ${explain(pulled)}`);
    assert.equal(pulled.digest, blob.digest(), `${blob.key} served with other bytes`);
  }
}

function blobFile(storageRoot: string, digest: string): string {
  const [algorithm, encoded] = digest.split(':') as [string, string];
  return join(storageRoot, 'blobs', algorithm, encoded.slice(0, 2), encoded, 'data');
}

function linked(database: string, repo: string, digest: string): boolean {
  const db = new Database(database, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select 1 from blob_links l join repositories r on r.id = l.repository_id where r.name = ? and l.digest = ?').get(repo, digest) !== undefined;
  } finally {
    db.close();
  }
}

/** Nothing of a refused push is visible: no blob served, none stored under its digest, no link. */
async function expectInvisible(client: OciClient, target: { storageRoot: string; database: string }, repo: string, digest: string): Promise<void> {
  expectStatus(await client.headBlob(repo, digest), 404, `HEAD of refused ${digest}`);
  assert.ok(!existsSync(blobFile(target.storageRoot, digest)), `refused ${digest} is stored in the blob store`);
  assert.ok(!linked(target.database, repo, digest), `refused ${digest} is linked into ${repo}`);
}

test('storage full: 507 STORAGE_FULL, nothing half-visible, reads go on, pushes succeed once space returns', async (t) => {
  const disk = await smallDisk(ws, (line) => t.diagnostic(line));
  const client = new OciClient(disk.url, agent);
  const repo = 'faults/full';
  const image = await pushImage(client, repo, 'a', 'full-a');

  // A chunked upload that runs out of space part-way: the refused PATCH must not move the offset.
  disk.leave(640 * KIB);
  const chunked = new SyntheticContent('full-chunked', 2 * MIB);
  const chunk = 256 * KIB;
  const started = await client.startUpload(repo);
  expectStatus(started, 202, 'start upload with some space left');
  let location = locationOf(started)!;
  let offset = 0;
  let refused: HttpResponse | undefined;
  while (offset < chunked.size && refused === undefined) {
    const answer = await client.patch(location, chunked, offset, offset + chunk);
    if (answer.status === 202) {
      offset += chunk;
      location = locationOf(answer) ?? location;
    } else refused = answer;
  }
  assert.ok(refused, `a 2 MiB upload fit into 640 KiB of free space (${disk.kind})`);
  expectError(refused, 507, 'STORAGE_FULL', 'PATCH beyond the free space');
  const status = await client.status(location);
  expectStatus(status, 204, 'status of the upload that ran out of space');
  assert.equal(offset === 0 ? 0 : rangeEnd(status.headers.range)! + 1, offset, 'the refused chunk left bytes behind: the offset moved');
  const sessionData = join(disk.storageRoot, 'uploads', location.slice(location.lastIndexOf('/') + 1), 'data');
  assert.equal(existsSync(sessionData) ? statSync(sessionData).size : 0, offset, 'the session holds bytes of the refused chunk');

  const monolithic = new SyntheticContent('full-monolithic', 2 * MIB);
  expectError(await client.monolithic(repo, monolithic), 507, 'STORAGE_FULL', 'monolithic push beyond the free space');

  disk.fill();
  const manifest = OciClient.imageManifest({ digest: image.config.digest(), size: image.config.size }, [{ digest: image.layer.digest(), size: image.layer.size }], { tag: 'b' });
  expectError(await client.putManifest(repo, 'b', manifest), 507, 'STORAGE_FULL', 'manifest push on a full disk');
  expectError(await client.startUpload(repo), 507, 'STORAGE_FULL', 'starting an upload on a full disk');

  for (const digest of [chunked.digest(), monolithic.digest(), sha256(manifest)]) await expectInvisible(client, disk, repo, digest);
  expectError(await client.getManifest(repo, 'b'), 404, 'MANIFEST_UNKNOWN', 'tag of the refused manifest');
  await expectImageServed(client, repo, 'a', image);
  expectStatus(await send(`${disk.url}/healthz`, { agent }), 200, '/healthz on a full disk');

  // Space returns: the same session resumes where it stood, and every refused push now works.
  disk.release();
  const resumed = await client.continueUpload(location, chunked, offset, chunk);
  expectStatus(resumed, 201, 'resume the upload once space returned');
  expectStatus(await client.monolithic(repo, monolithic), 201, 'monolithic push once space returned');
  expectStatus(await client.putManifest(repo, 'b', manifest), 201, 'manifest push once space returned');
  for (const blob of [chunked, monolithic]) assert.equal((await client.pullBlob(repo, blob.digest())).digest, blob.digest());
  assert.ok(disk.alive(), 'the registry died on a full disk');
  await disk.stop();
  const audit = await auditRegistryStore(disk);
  assert.deepEqual(audit.problems, [], audit.problems.join('\n'));
});

test('storage I/O errors: JSON 503, nothing half-visible, broken reads are cut off, recovery', async () => {
  const dir = ws.mkdir('eio');
  const storageRoot = join(dir, 'blobs');
  const driver = new FaultyDriver(new FilesystemDriver(storageRoot));
  const registry = await startInProcessRegistry(dir, driver);
  ws.defer('stop the EIO registry', () => registry.close());
  const client = new OciClient(registry.url, agent);
  const repo = 'faults/eio';
  const image = await pushImage(client, repo, 'a', 'eio-a');
  const started = await client.startUpload(repo);
  expectStatus(started, 202, 'start upload before the disk fails');
  const location = locationOf(started)!;

  driver.failWrites('EIO');
  const blob = new SyntheticContent('eio-blob', 512 * KIB);
  expectError(await client.patch(location, blob, 0, blob.size), 503, 'UNAVAILABLE', 'PATCH on a failing disk');
  expectError(await client.monolithic(repo, blob), 503, 'UNAVAILABLE', 'monolithic push on a failing disk');
  const manifest = OciClient.imageManifest({ digest: image.config.digest(), size: image.config.size }, [], { tag: 'b' });
  expectError(await client.putManifest(repo, 'b', manifest), 503, 'UNAVAILABLE', 'manifest push on a failing disk');
  for (const digest of [blob.digest(), sha256(manifest)]) await expectInvisible(client, { storageRoot, database: registry.database }, repo, digest);
  // Writes fail, reads still work.
  await expectImageServed(client, repo, 'a', image);
  driver.failWrites(null);

  // A read that fails before the first byte is a clean 503; one that breaks mid-stream is cut
  // off, so the client sees a short body, never a complete-looking wrong one.
  driver.failReads('EIO');
  const failedOpen = await client.pullBlob(repo, image.layer.digest());
  expectError({ ...failedOpen, body: failedOpen.errorBody }, 503, 'UNAVAILABLE', 'GET of a blob whose read fails');
  driver.failReads('EIO', 300 * KIB);
  await assert.rejects(client.pullBlob(repo, image.layer.digest()), (err) => isNetworkError(err), 'a read broken mid-stream must cut the response short');
  driver.failReads(null);

  const status = await client.status(location);
  expectStatus(status, 204, 'status after the failed PATCH');
  expectStatus(await client.continueUpload(location, blob, 0, blob.size), 201, 'the same upload once the disk works');
  expectStatus(await client.putManifest(repo, 'b', manifest), 201, 'manifest once the disk works');
  await expectImageServed(client, repo, 'a', image);
  assert.ok(registry.server.listening);
});

test('SQLite locked for longer than the busy timeout: 503 UNAVAILABLE with Retry-After, then recovery', async () => {
  const dataDir = ws.mkdir('locked-data');
  const registry = registryService(ws, dataDir, {}, 'registry-locked');
  const url = await registry.start();
  ws.defer('stop the locked registry', () => registry.stop());
  const client = new OciClient(url, agent);
  const repo = 'faults/locked';
  const image = await pushImage(client, repo, 'a', 'locked-a');

  // Another connection holds the write lock; it is released only after the writes answered,
  // so it is held for at least the registry's busy timeout.
  const lock = new Database(join(dataDir, 'registry', 'registry.sqlite'), { fileMustExist: true });
  lock.exec('BEGIN EXCLUSIVE');
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    lock.exec('ROLLBACK');
    lock.close();
  };
  ws.defer('release the SQLite lock', release);
  const manifest = OciClient.imageManifest({ digest: image.config.digest(), size: image.config.size }, [], { tag: 'locked' });
  const blob = new SyntheticContent('locked-blob', 256 * KIB);
  try {
    expectUnavailable(await client.putManifest(repo, 'locked', manifest), 'manifest push while the database is locked');
    expectUnavailable(await client.monolithic(repo, blob), 'blob push while the database is locked');
    // Reads do not need the write lock (WAL).
    await expectImageServed(client, repo, 'a', image);
  } finally {
    release();
  }
  expectError(await client.getManifest(repo, 'locked'), 404, 'MANIFEST_UNKNOWN', 'tag of the manifest refused under the lock');
  expectStatus(await client.headBlob(repo, blob.digest()), 404, 'blob whose link was refused under the lock');

  expectStatus(await client.putManifest(repo, 'locked', manifest), 201, 'manifest push after the lock is gone');
  expectStatus(await client.monolithic(repo, blob), 201, 'blob push after the lock is gone');
  expectStatus(await client.headBlob(repo, blob.digest()), 200, 'blob after the lock is gone');
  expectStatus(await send(`${url}/healthz`, { agent }), 200, '/healthz after the lock');
  assert.ok(registry.running(), 'the registry died while the database was locked');
});

const postgresDown = await postgresUnavailable();

test(
  'PostgreSQL reset mid-query, silent or refusing: 503 UNAVAILABLE with Retry-After, process stays up, recovery',
  { skip: postgresDown !== null && !process.env.CI ? `PostgreSQL at ${POSTGRES_URL} unreachable (${postgresDown}); set CI=1 to make this a failure` : false },
  async () => {
    assert.equal(postgresDown, null, `PostgreSQL at ${POSTGRES_URL} is unreachable under CI: ${postgresDown}`);
    const upstream = new URL(POSTGRES_URL);
    const schema = `dockyard_reliability_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    ws.defer('drop the PostgreSQL schema', async () => {
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    });
    const proxy = new TcpProxy(upstream.hostname, Number(upstream.port || 5432));
    await proxy.start();
    ws.defer('stop the database proxy', () => proxy.cut());
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set('options', `-c search_path=${schema}`);
    const registry = registryService(ws, ws.mkdir('pg-data'), { REGISTRY_DATABASE_URL: viaProxy.toString() }, 'registry-pg');
    const url = await registry.start();
    ws.defer('stop the PostgreSQL registry', () => registry.stop());
    const client = new OciClient(url, agent);
    const repo = 'faults/pg';
    const image = await pushImage(client, repo, 'a', 'pg-a');

    const manifest = OciClient.imageManifest({ digest: image.config.digest(), size: image.config.size }, [], { tag: 'b' });
    // The connection dies under a running query.
    proxy.stall();
    const swallowedBefore = proxy.swallowed;
    const inFlight = client.getManifest(repo, 'a');
    for (let waited = 0; proxy.swallowed === swallowedBefore; waited += 10) {
      assert.ok(waited < 10_000, 'the manifest read never reached the database');
      await sleep(10);
    }
    await proxy.cut();
    expectUnavailable(await inFlight, 'manifest read whose database connection was reset mid-query');

    // The network goes silent under a pooled connection: no reset, no answer; the query
    // deadline must answer instead of holding the request for as long as TCP takes.
    await proxy.start();
    await expectImageServed(client, repo, 'a', image);
    proxy.stall();
    expectUnavailable(await client.getManifest(repo, 'a'), 'manifest read while the database does not answer');

    // The host refuses connections.
    await proxy.cut();
    expectUnavailable(await client.getManifest(repo, 'a'), 'manifest read without a database');
    expectUnavailable(await client.putManifest(repo, 'b', manifest), 'manifest push without a database');
    expectUnavailable(await client.headBlob(repo, image.layer.digest()), 'blob HEAD without a database', 'HEAD');
    expectStatus(await send(`${url}/readyz`, { agent }), 503, '/readyz without a database');
    expectStatus(await send(`${url}/healthz`, { agent }), 200, '/healthz without a database');

    await proxy.start();
    await expectImageServed(client, repo, 'a', image);
    expectStatus(await client.putManifest(repo, 'b', manifest), 201, 'manifest push once the database is back');
    expectStatus(await send(`${url}/readyz`, { agent }), 200, '/readyz once the database is back');
    assert.ok(registry.running(), 'the registry died while its database was unreachable');
  },
);
