// The MetadataStore contract on SQLite (a temp file per test), plus KnexMetadataStore.open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnexMetadataStore } from '../../services/registry/metadata/knex-store.js';
import { digestOf, makeSqliteFixture, runMetadataStoreContract } from './metadata-store.contract.js';
import { runVisibleCatalogContract } from './catalog-visible.contract.js';

runMetadataStoreContract('sqlite', makeSqliteFixture);
runVisibleCatalogContract('sqlite', makeSqliteFixture);

test('KnexMetadataStore.open creates, migrates and reopens a SQLite database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-metadata-open-'));
  try {
    const filename = join(dir, 'nested', 'registry.sqlite');
    const first = await KnexMetadataStore.open({ client: 'sqlite', filename });
    await first.linkBlob('library/alpine', digestOf('layer'), 3);
    await first.close();
    const second = await KnexMetadataStore.open({ client: 'sqlite', filename });
    try {
      assert.deepEqual(await second.getBlobLink('library/alpine', digestOf('layer')), { size: 3 });
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
