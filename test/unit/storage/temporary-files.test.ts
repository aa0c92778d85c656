// Temporary files of the filesystem driver's putContent that a crash left behind are swept
// by the registry's purge (at start and hourly) once older than an hour; younger ones may
// belong to a write in progress and stay.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startRegistryService } from '../../../services/registry/main.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import type { RegistryConfig } from '../../../shared/config/index.js';

const TWO_HOURS_AGO = new Date(Date.now() - 2 * 3600_000);

describe('putContent temporary files', () => {
  let root: string;
  before(async () => (root = await mkdtemp(join(tmpdir(), 'dockyard-temp-files-'))));
  after(() => rm(root, { recursive: true, force: true }));

  it('are written under <root>/.tmp, never beside the object', async () => {
    const storage = join(root, 'layout');
    await new FilesystemDriver(storage).putContent('/blobs/x/data', Buffer.from('content'));
    assert.deepEqual(await readdir(join(storage, 'blobs', 'x')), ['data']);
    assert.deepEqual(await readdir(join(storage, '.tmp')), []);
  });

  it('left by a crash are swept when the registry starts, young ones are kept', async () => {
    const storage = join(root, 'crashed');
    await mkdir(join(storage, '.tmp'), { recursive: true });
    const stale = join(storage, '.tmp', 'put.00112233445566ff.tmp');
    const young = join(storage, '.tmp', 'put.ffeeddccbbaa9988.tmp');
    await writeFile(stale, 'half-writ');
    await utimes(stale, TWO_HOURS_AGO, TWO_HOURS_AGO);
    await writeFile(young, 'being written');
    const config: RegistryConfig = {
      http: { host: '127.0.0.1', port: 0 },
      dataDir: root,
      storage: { driver: 'filesystem', rootDirectory: storage },
      database: { client: 'sqlite', filename: ':memory:' },
      auth: { kind: 'none' },
      readOnly: false,
      uploads: { purgeAfterSeconds: 3600 },
      limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: 1000 },
    };
    const registry = await startRegistryService(config, { logger: pino({ level: 'silent' }) });
    try {
      // The purge runs right after the start, in the background: wait (generously) for its outcome.
      const deadline = Date.now() + 30_000;
      while ((await readdir(join(storage, '.tmp'))).includes('put.00112233445566ff.tmp') && Date.now() < deadline) await sleep(20);
      assert.deepEqual(await readdir(join(storage, '.tmp')), ['put.ffeeddccbbaa9988.tmp']);
    } finally {
      await registry.close();
    }
  });
});
