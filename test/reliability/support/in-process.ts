/**
 * A registry app (createApp, never listens on its own) on a real port with a real SQLite
 * file and a caller-supplied StorageDriver: how a fault test puts a FaultyDriver under a
 * registry that is otherwise exactly what main.ts wires.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RegistryConfig } from '../../../shared/config/index.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import { createApp } from '../../../services/registry/app.js';
import { NoneAccessController } from '../../../services/registry/auth/none.js';
import { KnexMetadataStore } from '../../../services/registry/metadata/knex-store.js';
import type { StorageDriver } from '../../../services/registry/storage/driver.js';

/** A listening in-process registry. */
export interface InProcessRegistry {
  url: string;
  server: Server;
  metadata: KnexMetadataStore;
  /** Path of its SQLite file. */
  database: string;
  close(): Promise<void>;
}

/** Starts createApp over `storage` with its SQLite file in `dir`, on 127.0.0.1:0. */
export async function startInProcessRegistry(dir: string, storage: StorageDriver): Promise<InProcessRegistry> {
  const database = join(dir, 'registry.sqlite');
  const config: RegistryConfig = {
    http: { host: '127.0.0.1', port: 0 },
    dataDir: dir,
    storage: { driver: 'filesystem', rootDirectory: join(dir, 'blobs') },
    database: { client: 'sqlite', filename: database },
    auth: { kind: 'none' },
    readOnly: false,
    uploads: { purgeAfterSeconds: 3600 },
    limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: 1000 },
  };
  const metadata = await KnexMetadataStore.open(config.database);
  const app = createApp(config, { storage, metadata, access: new NoneAccessController(), logger: silentLogger() });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    metadata,
    database,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metadata.close();
    },
  };
}
