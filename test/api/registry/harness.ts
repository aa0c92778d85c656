/**
 * A real registry for API workflow tests: createApp on a real port (127.0.0.1:0) with a
 * temp-dir SQLite metadata store and a MemoryDriver or temp-dir FilesystemDriver, plus the
 * client-side helpers the tests share (digests, uploads, manifests, error assertions).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryConfig } from '../../../shared/config/index.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import type { Registry } from '../../../shared/observability/metrics.js';
import { createApp } from '../../../services/registry/app.js';
import type { IncomingHttpHeaders } from 'node:http';
import { accessCovers, formatScope, type AccessRecord } from '../../../shared/grammar/scope.js';
import { ChallengeError, type AccessController, type Grant } from '../../../services/registry/auth/controller.js';
import { NoneAccessController } from '../../../services/registry/auth/none.js';
import { KnexMetadataStore } from '../../../services/registry/metadata/knex-store.js';
import { BlobStore } from '../../../services/registry/storage/blobs.js';
import type { StorageDriver } from '../../../services/registry/storage/driver.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import { MemoryDriver } from '../../../services/registry/storage/drivers/memory.js';
import { UploadManager } from '../../../services/registry/storage/uploads.js';
import type { KeyMutex } from '../../../shared/process/cluster-mutex.js';

// Media types the tests push, spelled once.
/** OCI image manifest. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image index. */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image config. */
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** OCI gzip layer. */
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Docker schema 2 manifest. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker manifest list. */
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker image config. */
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Docker gzip layer. */
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** How the test registry is built (defaults: memory storage, auth none, 4 MiB manifests, 1000 per page). */
export interface TestRegistryOptions {
  storage?: 'memory' | 'filesystem';
  /** A driver built by the test (an S3 driver on the test RGW); replaces `storage`. */
  driver?: StorageDriver;
  readOnly?: boolean;
  manifestMaxBytes?: number;
  pageMaxEntries?: number;
  access?: AccessController;
  metrics?: Registry;
}

/** A running registry and the components behind it. */
export interface TestRegistry {
  url: string;
  config: RegistryConfig;
  storage: StorageDriver;
  metadata: KnexMetadataStore;
  blobs: BlobStore;
  server: Server;
  close(): Promise<void>;
}

/** Starts a registry on 127.0.0.1:0; `close()` stops it and removes its temp dir. */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'dockyard-api-'));
  const storageKind = options.storage ?? 'memory';
  const config: RegistryConfig = {
    http: { host: '127.0.0.1', port: 0 },
    dataDir: dir,
    storage: storageKind === 'memory' ? { driver: 'memory' } : { driver: 'filesystem', rootDirectory: join(dir, 'blobs') },
    database: { client: 'sqlite', filename: join(dir, 'registry.sqlite') },
    auth: { kind: 'none' },
    readOnly: options.readOnly ?? false,
    uploads: { purgeAfterSeconds: 3600 },
    limits: { manifestMaxBytes: options.manifestMaxBytes ?? 4 * 1024 * 1024, pageMaxEntries: options.pageMaxEntries ?? 1000 },
  };
  const storage: StorageDriver = options.driver ?? (storageKind === 'memory' ? new MemoryDriver() : new FilesystemDriver(join(dir, 'blobs')));
  const metadata = await KnexMetadataStore.open(config.database);
  const blobs = new BlobStore(storage);
  const app = createApp(config, {
    storage,
    metadata,
    blobs,
    access: options.access ?? new NoneAccessController(),
    logger: silentLogger(),
    metrics: options.metrics,
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    storage,
    metadata,
    blobs,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `sha256:<hex>` or `sha512:<hex>` of bytes. */
export function digestOf(bytes: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Asserts the response is the JSON error envelope with this status and (first) code; returns the error. */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ code: string; message: string; detail?: unknown }> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as { errors: Array<{ code: string; message: string; detail?: unknown }> };
  assert.equal(body.errors[0]?.code, code, text);
  assert.equal(typeof body.errors[0]?.message, 'string');
  return body.errors[0]!;
}

/** Uploads bytes with POST + PUT ?digest= (one request body); returns the digest. */
export async function uploadBlob(url: string, name: string, bytes: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const digest = digestOf(bytes, algorithm);
  const start = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, await start.text());
  const location = start.headers.get('location')!;
  const put = await fetch(`${url}${location}?digest=${digest}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

/** PUTs a manifest (object or raw bytes) at a tag or digest. */
export function putManifest(url: string, name: string, reference: string, manifest: unknown, contentType?: string): Promise<Response> {
  const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
  return fetch(`${url}/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    body,
    headers: contentType === undefined ? {} : { 'Content-Type': contentType },
  });
}

/** A content descriptor for bytes. */
export function descriptor(mediaType: string, bytes: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256') {
  return { mediaType, digest: digestOf(bytes, algorithm), size: Buffer.byteLength(bytes) };
}

/** An image built in code: config, layers and a manifest of the given media type, not yet pushed. */
export interface TestImage {
  config: Buffer;
  layers: Buffer[];
  manifest: Buffer;
  mediaType: string;
  digest: string;
}

/** Builds an image whose layers are arbitrary bytes (no tar needed: the registry never looks inside). */
export function buildImage(options: { seed: string; docker?: boolean; layers?: number; algorithm?: 'sha256' | 'sha512'; extra?: Record<string, unknown> }): TestImage {
  const algorithm = options.algorithm ?? 'sha256';
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed: options.seed }));
  const layers = Array.from({ length: options.layers ?? 2 }, (_, i) => Buffer.from(`layer ${i} of ${options.seed}\n`.repeat(50 + i)));
  const mediaType = options.docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const manifestObject = {
    schemaVersion: 2,
    mediaType,
    config: descriptor(options.docker ? DOCKER_CONFIG : OCI_CONFIG, config, algorithm),
    layers: layers.map((layer) => descriptor(options.docker ? DOCKER_LAYER : OCI_LAYER, layer, algorithm)),
    ...options.extra,
  };
  const manifest = Buffer.from(JSON.stringify(manifestObject, null, 2));
  return { config, layers, manifest, mediaType, digest: digestOf(manifest) };
}

/** An image whose layers are `base`'s followed by one of its own (what `FROM base` plus one step builds). */
export function buildImageOn(base: TestImage, seed: string, annotations?: Record<string, string>): TestImage {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layers = [...base.layers, Buffer.from(`own layer of ${seed}\n`)];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(OCI_CONFIG, config),
      layers: layers.map((layer) => descriptor(OCI_LAYER, layer)),
      ...(annotations ? { annotations } : {}),
    }),
  );
  return { config, layers, manifest, mediaType: OCI_MANIFEST, digest: digestOf(manifest) };
}

/** Uploads an image's blobs, then its manifest at `reference`; asserts 201 and returns the manifest digest. */
export async function pushImage(url: string, name: string, reference: string, image: TestImage, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await uploadBlob(url, name, blob, algorithm);
  const response = await putManifest(url, name, reference, image.manifest, image.mediaType);
  assert.equal(response.status, 201, await response.text());
  return response.headers.get('docker-content-digest')!;
}

/**
 * An access controller for tests: the subject comes from the `X-Test-User` header and
 * may do what `grants` lists for it (or everything when it is listed with `*`). No user
 * → 401 challenge; not enough access → 401 insufficient_scope, like a token registry.
 * Every call's required access is recorded.
 */
export class TableAccessController implements AccessController {
  readonly calls: AccessRecord[][] = [];
  constructor(private readonly grants: Record<string, AccessRecord[] | '*'>) {}

  async authorize(headers: IncomingHttpHeaders, required: AccessRecord[]): Promise<Grant> {
    this.calls.push(required);
    const scope = required.map(formatScope).join(' ');
    const user = headers['x-test-user'];
    if (typeof user !== 'string' || !(user in this.grants)) {
      throw new ChallengeError(`Bearer realm="test",service="test",scope="${scope}"`);
    }
    const granted = this.grants[user]!;
    if (granted !== '*' && !accessCovers(granted, required)) {
      throw new ChallengeError(`Bearer realm="test",service="test",scope="${scope}",error="insufficient_scope"`, 'insufficient scope');
    }
    return { subject: user, access: required };
  }
}

/**
 * A second app over the same storage and metadata, with its own (empty) in-process state:
 * what a request sees when it lands on another replica or after a restart. `storage`: the
 * replica's own driver over the same store (a second S3 client, as another host has);
 * `sessionLocks`: how its upload sessions exclude other replicas (PostgreSQL advisory locks);
 * `access` guards it.
 */
export async function startReplica(
  registry: TestRegistry,
  { storage = registry.storage, sessionLocks, access = new NoneAccessController() }: {
    storage?: StorageDriver;
    sessionLocks?: KeyMutex;
    access?: AccessController;
  } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const app = createApp(registry.config, {
    storage,
    uploads: sessionLocks && new UploadManager(storage, new BlobStore(storage), sessionLocks),
    metadata: registry.metadata,
    access,
    logger: silentLogger(),
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
