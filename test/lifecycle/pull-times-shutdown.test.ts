/**
 * The registry process writes the pull times it noted when it stops (main.ts closes its
 * PullTimes before the database), so a clean restart loses none; only a crash loses the
 * notes of the current flush interval (docs/lifecycle.md, "Retention by last pull").
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import knexFactory from 'knex';
import type { RegistryConfig } from '../../shared/config/index.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { startRegistryService } from '../../services/registry/main.js';
import { makeImage, pushImage } from './harness.js';

describe('pull times at shutdown', () => {
  it('are written when the registry stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dockyard-pulls-'));
    const config: RegistryConfig = {
      http: { host: '127.0.0.1', port: 0 },
      dataDir: dir,
      storage: { driver: 'filesystem', rootDirectory: join(dir, 'blobs') },
      database: { client: 'sqlite', filename: join(dir, 'registry.sqlite') },
      auth: { kind: 'none' },
      readOnly: false,
      uploads: { purgeAfterSeconds: 3600 },
      limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: 1000 },
      gc: { graceSeconds: 3600, intervalSeconds: 0, deleteUntagged: false },
    };
    try {
      const registry = await startRegistryService(config, { logger: silentLogger(), housekeeping: false });
      const image = makeImage('pulled at shutdown', [Buffer.from('layer\n')]);
      try {
        assert.ok(await pushImage(registry.url, 'team/app', 'v1', image));
        const pulled = await fetch(`${registry.url}/v2/team/app/manifests/v1`);
        assert.equal(pulled.status, 200);
        await pulled.arrayBuffer();
      } finally {
        await registry.close();
      }
      const db = knexFactory({ client: 'better-sqlite3', connection: { filename: join(dir, 'registry.sqlite') }, useNullAsDefault: true });
      try {
        const row: { last_pulled_ms: number | null } | undefined = await db('tags').first('last_pulled_ms').where('name', 'v1');
        assert.ok(row?.last_pulled_ms && row.last_pulled_ms > Date.now() - 60_000, `last_pulled_ms: ${row?.last_pulled_ms}`);
      } finally {
        await db.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
