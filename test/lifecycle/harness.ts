/**
 * A real registry for the lifecycle tests: createApp on 127.0.0.1:0 over a temp-dir
 * filesystem driver (or a fresh bucket on the test Ceph RGW, test/support/ceph-rgw.ts) and
 * either a temp SQLite file or a fresh PostgreSQL schema, plus a
 * collector over the same metadata and storage whose clock a test can move forward, and
 * the client steps the tests share (push an image, pull and verify it, list bytes on disk).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import type { RegistryConfig } from '../../shared/config/index.js';
import { migrateLatest, openDatabase, type DatabaseConfig } from '../../shared/db/index.js';
import { silentLogger } from '../../shared/observability/logger.js';
import type { Registry } from '../../shared/observability/metrics.js';
import { createApp } from '../../services/registry/app.js';
import { NoneAccessController } from '../../services/registry/auth/none.js';
import { GarbageCollector } from '../../services/registry/lifecycle/gc.js';
import { gcMetrics } from '../../services/registry/lifecycle/gc-metrics.js';
import { GcStore } from '../../services/registry/lifecycle/gc-store.js';
import { PullTimes } from '../../services/registry/lifecycle/pull-times.js';
import { KnexMetadataStore } from '../../services/registry/metadata/knex-store.js';
import { BlobStore } from '../../services/registry/storage/blobs.js';
import { PathNotFoundError, type StorageDriver } from '../../services/registry/storage/driver.js';
import { FilesystemDriver } from '../../services/registry/storage/drivers/filesystem.js';
import { S3Driver } from '../../services/registry/storage/drivers/s3/index.js';
import { blobDataPath, blobsRoot, digestOfBlobDirectory } from '../../services/registry/storage/paths.js';
import { runCli } from '../../services/auth/cli.js';
import { s3TestConfig } from '../support/ceph-rgw.js';
import { POSTGRES_URL, postgresUnavailable } from '../support/postgres.js';

export type Dialect = 'sqlite' | 'postgres';

/** Where blob bytes go: a temp directory, or a new bucket on the test RGW. */
export type StorageKind = 'filesystem' | 's3';

/** A running registry with a collector beside it. */
export interface LifecycleRegistry {
  url: string;
  dir: string;
  /** Where blob bytes live on disk (filesystem storage only). */
  blobRoot: string;
  /** The storage driver the collector uses (a separate instance from the app's). */
  storage: StorageDriver;
  /** Every digest whose bytes are stored, listed through the storage driver. */
  storedDigests(): Promise<Set<string>>;
  config: RegistryConfig;
  metadata: KnexMetadataStore;
  blobs: BlobStore;
  /** The app's pull-time notes (never flushed by a timer here: a test flushes them). */
  pullTimes: PullTimes;
  /** A collector whose clock runs `offsetMs` ahead of the real one. */
  collector(options?: { offsetMs?: number; deleteUntagged?: boolean; batchSize?: number; metrics?: Registry }): GarbageCollector;
  close(): Promise<void>;
}

async function databaseFor(dialect: Dialect, dir: string): Promise<{ database: DatabaseConfig; drop(): Promise<void> }> {
  if (dialect === 'sqlite') return { database: { client: 'sqlite', filename: join(dir, 'registry.sqlite') }, drop: async () => undefined };
  const schema = `dockyard_lifecycle_${process.pid}_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: POSTGRES_URL });
  await admin.raw('create schema ??', [schema]);
  await admin.destroy();
  return {
    database: { client: 'pg', connection: POSTGRES_URL, schema },
    async drop() {
      const again = knexFactory({ client: 'pg', connection: POSTGRES_URL });
      await again.raw('drop schema if exists ?? cascade', [schema]);
      await again.destroy();
    },
  };
}

/** Storage operations a test can hold up. */
export type StorageOp = 'putContent' | 'move' | 'delete' | 'rename';

/** Called before each write, move, rename (the collector's moves into its trash) and delete; the operation waits for the returned promise. */
export type StorageHook = (op: StorageOp, path: string) => Promise<void> | void;

/**
 * The filesystem driver with `hook` run before every write, move and delete: a random pause
 * (a slow object store) widens the windows between a push's steps so races show up in a
 * test run, and a gate holds one step until the test has run the collector.
 */
function hooked<T extends StorageDriver>(driver: T, hook: StorageHook | undefined): T {
  if (!hook) return driver;
  const putContent = driver.putContent.bind(driver);
  const move = driver.move.bind(driver);
  const remove = driver.delete.bind(driver);
  driver.putContent = async (path, ...rest) => {
    await hook('putContent', path);
    return putContent(path, ...rest);
  };
  driver.move = async (source, dest) => {
    await hook('move', dest);
    return move(source, dest);
  };
  driver.delete = async (path) => {
    await hook('delete', path);
    return remove(path);
  };
  const rename = driver.rename?.bind(driver);
  if (rename) {
    driver.rename = async (source, dest) => {
      await hook('rename', dest);
      return rename(source, dest);
    };
  }
  return driver;
}

/** A random pause of up to `maxMs` before each storage write (see hooked). */
export function slowStorage(maxMs: number): StorageHook {
  return () => new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
}

/** Starts a registry with the given grace period (seconds); the app's storage runs `storageHook` (see hooked). */
export async function startLifecycleRegistry(
  dialect: Dialect,
  graceSeconds: number,
  options: { storageHook?: StorageHook; metrics?: Registry; storage?: StorageKind } = {},
): Promise<LifecycleRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'dockyard-lifecycle-'));
  const { database, drop } = await databaseFor(dialect, dir);
  const blobRoot = join(dir, 'blobs');
  const s3 = options.storage === 's3' ? await s3TestConfig({ rootDirectory: '/registry' }) : undefined;
  // The app's driver and the collector's are separate instances, as in a separate process.
  const newDriver = (): StorageDriver => (s3 ? new S3Driver(s3) : new FilesystemDriver(blobRoot));
  const config: RegistryConfig = {
    http: { host: '127.0.0.1', port: 0 },
    dataDir: dir,
    storage: s3 ? { driver: 's3', s3 } : { driver: 'filesystem', rootDirectory: blobRoot },
    database,
    auth: { kind: 'none' },
    readOnly: false,
    uploads: { purgeAfterSeconds: 3600 },
    limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: 1000 },
    gc: { graceSeconds, intervalSeconds: 0, deleteUntagged: false },
  };
  const db = openDatabase(database, { commitSync: 'deferred' });
  await migrateLatest(db, 'registry');
  const metadata = new KnexMetadataStore(db);
  const storage = hooked(newDriver(), options.storageHook);
  const collectorStorage = newDriver();
  const blobs = new BlobStore(storage);
  const pullTimes = new PullTimes(db, silentLogger());
  const app = createApp(config, { storage, metadata, blobs, access: new NoneAccessController(), logger: silentLogger(), metrics: options.metrics, pullTimes });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    blobRoot,
    config,
    metadata,
    blobs,
    pullTimes,
    storage: collectorStorage,
    storedDigests: () => storedDigests(collectorStorage),
    collector(options = {}) {
      const offset = options.offsetMs ?? 0;
      return new GarbageCollector(
        {
          metadata,
          gc: new GcStore(db),
          blobs,
          storage: collectorStorage,
          logger: silentLogger(),
          clock: () => Date.now() + offset,
          metrics: options.metrics ? gcMetrics(options.metrics) : undefined,
        },
        { graceSeconds, deleteUntagged: options.deleteUntagged ?? false, batchSize: options.batchSize },
      );
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metadata.close();
      for (const driver of [storage, collectorStorage]) if (driver instanceof S3Driver) driver.client.destroy();
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `sha256:<hex>` of bytes. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Every digest whose bytes are on disk under `blobRoot`. */
export async function digestsOnDisk(blobRoot: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const algorithm of await readdir(join(blobRoot, 'blobs')).catch(() => [] as string[])) {
    for (const prefix of await readdir(join(blobRoot, 'blobs', algorithm))) {
      for (const encoded of await readdir(join(blobRoot, 'blobs', algorithm, prefix))) {
        const files = await readdir(join(blobRoot, 'blobs', algorithm, prefix, encoded)).catch(() => [] as string[]);
        if (files.includes('data')) found.add(`${algorithm}:${encoded}`);
      }
    }
  }
  return found;
}

async function listOrEmpty(storage: StorageDriver, path: string): Promise<string[]> {
  return storage.list(path).catch((err: unknown) => {
    if (err instanceof PathNotFoundError) return [];
    throw err;
  });
}

/** Every digest whose `data` object a driver stores (what digestsOnDisk sees, on any driver). */
export async function storedDigests(storage: StorageDriver): Promise<Set<string>> {
  const found = new Set<string>();
  for (const algorithm of await listOrEmpty(storage, blobsRoot())) {
    for (const prefix of await listOrEmpty(storage, algorithm)) {
      for (const directory of await listOrEmpty(storage, prefix)) {
        const digest = digestOfBlobDirectory(directory);
        if (!digest) continue;
        const stored = await storage.stat(blobDataPath(digest)).then(
          () => true,
          (err: unknown) => (err instanceof PathNotFoundError ? false : Promise.reject(err)),
        );
        if (stored) found.add(digest.value);
      }
    }
  }
  return found;
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar';

/** An image built in code (not yet pushed). */
export interface Image {
  config: Buffer;
  layers: Buffer[];
  manifest: Buffer;
  digest: string;
}

function describe(mediaType: string, bytes: Buffer) {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

/** An image of the given layers, made distinct by `seed`; `subject` makes it a referrer. */
export function makeImage(seed: string, layers: Buffer[], subject?: { digest: string; size: number }): Image {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: describe(CONFIG, config),
      layers: layers.map((layer) => describe(LAYER, layer)),
      ...(subject ? { subject: { mediaType: MANIFEST, ...subject } } : {}),
    }),
  );
  return { config, layers, manifest, digest: sha256(manifest) };
}

/** An index over already-pushed child images. */
export function makeIndex(children: Image[]): { bytes: Buffer; digest: string } {
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: children.map((c, i) => ({ ...describe(MANIFEST, c.manifest), platform: { architecture: `arch${i}`, os: 'linux' } })) }),
  );
  return { bytes, digest: sha256(bytes) };
}

/** POST + PUT one blob; returns the response status of the PUT (201 when stored). */
export async function uploadBlob(url: string, repo: string, bytes: Buffer): Promise<number> {
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) return start.status;
  const put = await fetch(`${url}${start.headers.get('location')}?digest=${sha256(bytes)}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  await put.arrayBuffer();
  return put.status;
}

/** PUT a manifest or index at `reference`; returns the status. */
export async function putManifest(url: string, repo: string, reference: string, bytes: Buffer, mediaType = MANIFEST): Promise<number> {
  const response = await fetch(`${url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType } });
  await response.arrayBuffer();
  return response.status;
}

/** Pushes blobs (skipping those a HEAD finds, as docker does) then the manifest; true when acknowledged (201). */
export async function pushImage(url: string, repo: string, tag: string, image: Image): Promise<boolean> {
  for (const blob of [image.config, ...image.layers]) {
    const head = await fetch(`${url}/v2/${repo}/blobs/${sha256(blob)}`, { method: 'HEAD' });
    if (head.status === 200) continue;
    if ((await uploadBlob(url, repo, blob)) !== 201) return false;
  }
  return (await putManifest(url, repo, tag, image.manifest)) === 201;
}

/** GET a blob and return its bytes, or null unless 200. */
export async function pullBlob(url: string, repo: string, digest: string): Promise<Buffer | null> {
  const response = await fetch(`${url}/v2/${repo}/blobs/${digest}`);
  const body = Buffer.from(await response.arrayBuffer());
  return response.status === 200 ? body : null;
}

/** Pulls the image by tag and checks every byte against its digest. */
export async function assertImagePulls(url: string, repo: string, tag: string, image: Image): Promise<void> {
  const response = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: MANIFEST } });
  const manifest = Buffer.from(await response.arrayBuffer());
  assert.equal(response.status, 200, `${repo}:${tag} manifest`);
  assert.equal(sha256(manifest), image.digest, `${repo}:${tag} manifest bytes`);
  for (const blob of [image.config, ...image.layers]) {
    const pulled = await pullBlob(url, repo, sha256(blob));
    assert.ok(pulled, `${repo}:${tag} blob ${sha256(blob)} is gone`);
    assert.equal(sha256(pulled), sha256(blob), `${repo}:${tag} blob ${sha256(blob)} bytes`);
  }
}

/** Every digest an image stores: config, layers, manifest. */
export function imageDigests(image: Image): string[] {
  return [sha256(image.config), ...image.layers.map(sha256), image.digest];
}

/** The environment that points the admin CLI at this registry's database and storage. */
export function adminEnv(registry: LifecycleRegistry): Record<string, string> {
  const database = registry.config.database;
  return {
    DOCKYARD_DATA_DIR: registry.dir,
    REGISTRY_DATABASE_URL:
      database.client === 'sqlite' ? `sqlite:${database.filename}` : `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${database.schema}`)}`,
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: registry.blobRoot,
  };
}

/** `npm run admin -- ARGV` against this registry (through the auth CLI's hand-over), with `env` added. */
export async function admin(registry: LifecycleRegistry, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { ...process.env, ...adminEnv(registry), ...env }, { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

/** Why a dialect's tests skip here: PostgreSQL unreachable outside CI (under CI they run, and fail). */
export async function skipReason(dialect: Dialect): Promise<string | undefined> {
  if (dialect === 'sqlite' || process.env.CI) return undefined;
  const unavailable = await postgresUnavailable();
  return unavailable === null ? undefined : `PostgreSQL at ${POSTGRES_URL} unreachable (${unavailable})`;
}
