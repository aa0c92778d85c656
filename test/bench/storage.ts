/**
 * Where the bench's registries keep their data (`--storage NAME`). `filesystem` (default):
 * each registry its own directory, Dockyard on SQLite. `s3`: Dockyard and distribution
 * each get their own bucket on the same Ceph RGW (the one test/support/ceph-rgw.ts finds or
 * starts), Dockyard its metadata in a PostgreSQL schema of its own, as a scaled-out
 * deployment runs. `azure` (an Azurite this bench starts) and `swift` (the RGW's Swift API)
 * are Dockyard only, with `--targets dockyard`: they compare Dockyard's own drivers, beside
 * its s3 row. Another object store adds one entry to STORAGES.
 */
import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, azureEnvironment, startAzurite, stopAzuriteNow } from '../support/azurite.js';
import { s3Environment, s3TestConfig, swiftEnvironment, swiftTestConfig } from '../support/ceph-rgw.js';
import { POSTGRES_URL, postgresAdminQuery } from '../support/postgres.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3StorageConfig } from '../../shared/config/index.js';
import { cleanupClient, deleteBlobObjects, removeBucket } from './s3-cleanup.js';

const MiB = 1024 * 1024;

export interface BenchStorage {
  name: string;
  /** Settings added to a Dockyard registry named `server` (storage, metadata database). */
  dockyardEnv(server: string): Promise<Record<string, string>>;
  /** distribution's `storage:` driver lines (indented) for a registry whose data dir is `dataDir`. */
  distributionDriver(dataDir: string): Promise<string>;
  /** Lines for the report's notes. */
  notes: string[];
  /** Deletes one blob's objects from the store of the registry named `server` (stores a run could fill: s3). */
  deleteBlob?(server: string, digest: string): Promise<void>;
  close(): Promise<void>;
}

const filesystem: () => BenchStorage = () => ({
  name: 'filesystem',
  dockyardEnv: async () => ({}),
  distributionDriver: async (dataDir) => `  filesystem: { rootdirectory: ${JSON.stringify(dataDir)} }`,
  notes: [],
  close: async () => undefined,
});

function s3(): BenchStorage {
  const schemas: string[] = [];
  /** Each registry's bucket by server name, emptied and removed at close so a run leaves nothing in the RGW. */
  const buckets = new Map<string, S3StorageConfig>();
  let client: S3Client | undefined;
  const cleaner = (config: S3StorageConfig): S3Client => (client ??= cleanupClient(config));
  return {
    name: 's3',
    async dockyardEnv(server) {
      const config = await s3TestConfig({ chunkSize: 10 * MiB });
      buckets.set(server, config);
      const schema = `dockyard_bench_${server.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
      await postgresAdminQuery(`create schema "${schema}"`);
      schemas.push(schema);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return { ...s3Environment(config), REGISTRY_DATABASE_URL: url.toString() };
    },
    async distributionDriver() {
      const c = await s3TestConfig({ chunkSize: 10 * MiB });
      buckets.set('distribution', c);
      // Path-style requests follow from regionendpoint in 2.8. Its environment is built from
      // scratch (servers.ts productionEnv), so AWS_CA_BUNDLE, which crashes its s3 driver at
      // start, never reaches it.
      // Blob GETs proxied like Dockyard's default (distribution redirects to the store otherwise).
      return [
        `  s3: { region: ${c.region}, regionendpoint: ${JSON.stringify(c.regionEndpoint)}, bucket: ${c.bucket}, accesskey: ${JSON.stringify(c.accessKey)}, secretkey: ${JSON.stringify(c.secretKey)}, secure: false, chunksize: ${c.chunkSize}, rootdirectory: / }`,
        '  redirect: { disable: true }',
      ].join('\n');
    },
    notes: [
      'storage s3: Dockyard and distribution each write to their own bucket on one single-host Ceph RGW (Debian Ceph 16, BlueStore on a sparse file) on this machine, chunk size 10 MiB for both; Dockyard keeps its metadata in PostgreSQL 127.0.0.1 (its own schema), distribution has none.',
      'storage s3: the rss- rows delete each round\'s blob from the bucket after measuring (the objects whose key holds its digest); every bucket is emptied and removed when the run ends.',
    ],
    async deleteBlob(server, digest) {
      const config = buckets.get(server);
      if (!config) throw new Error(`no bucket for ${server}`);
      await deleteBlobObjects(cleaner(config), config.bucket, digest);
    },
    async close() {
      for (const schema of schemas) await postgresAdminQuery(`drop schema if exists "${schema}" cascade`);
      for (const config of buckets.values()) await removeBucket(cleaner(config), config.bucket);
      buckets.clear();
      client?.destroy();
    },
  };
}

/** A store only Dockyard runs on in this bench: asking for distribution on it is a usage error. */
function dockyardOnly(name: string): (dataDir: string) => Promise<string> {
  return async () => {
    throw new Error(`--storage ${name} measures Dockyard's own driver: add --targets dockyard`);
  };
}

function azure(): BenchStorage {
  const started: Array<Awaited<ReturnType<typeof startAzurite>>> = [];
  return {
    name: 'azure',
    async dockyardEnv() {
      const azurite = await startAzurite();
      started.push(azurite);
      const container = `bench-${randomBytes(4).toString('hex')}`;
      await new BlobServiceClient(azurite.serviceUrl, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).getContainerClient(container).create();
      return azureEnvironment({ accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, container, serviceUrl: azurite.serviceUrl, rootDirectory: '/', redirect: false });
    },
    distributionDriver: dockyardOnly('azure'),
    notes: ['storage azure: Dockyard on an Azurite 3.35 (npm) this bench starts on the same machine, a container of its own, 4 MiB blocks; SQLite metadata.'],
    async close() {
      for (const azurite of started) stopAzuriteNow(azurite);
    },
  };
}

const swift: () => BenchStorage = () => ({
  name: 'swift',
  dockyardEnv: async () => swiftEnvironment(await swiftTestConfig({ chunkSize: 20 * MiB })),
  distributionDriver: dockyardOnly('swift'),
  notes: ["storage swift: Dockyard on the Swift API of the same single-host Ceph RGW as the s3 rows (auth v1), a container of its own, 20 MiB segments (the driver's default); SQLite metadata."],
  close: async () => undefined,
});

const STORAGES: Record<string, () => BenchStorage> = { filesystem, s3, azure, swift };

export const STORAGE_NAMES = Object.keys(STORAGES);

export function benchStorage(name: string): BenchStorage {
  const make = STORAGES[name];
  if (!make) throw new Error(`--storage must be one of ${STORAGE_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return make();
}
