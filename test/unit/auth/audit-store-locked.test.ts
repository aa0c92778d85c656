// The token endpoint's audit batches are written on knex's SQLite connection directly, past
// knex's query path. They must still wait for a write lock another connection holds (two
// DOCKYARD_WORKERS on one file do this all the time) instead of failing the request at once:
// with no busy wait inside SQLite (shared/db), a write that skips the retry gets SQLITE_BUSY.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrateLatest, openDatabase, sqliteBusyWaits } from '../../../shared/db/index.js';
import { AuditStore } from '../../../services/auth/store/audit.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-audit-locked-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('a deferred audit append waits for another connection to let go of the write lock, then commits', async () => {
  const file = join(dir, 'auth.sqlite');
  const db = openDatabase({ client: 'sqlite', filename: file });
  try {
    await migrateLatest(db, 'auth');
    const store = new AuditStore(db);
    const holder = new Database(file);
    holder.exec('BEGIN IMMEDIATE');
    const waitsBefore = sqliteBusyWaits();
    let settled = false;
    const append = store
      .appendDeferred([{ at: 1, actor: 'alice', action: 'token.issue', target: 'svc', clientAddress: '127.0.0.1', outcome: 'ok', details: {} }])
      .finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(settled, false, 'the append neither failed nor committed while the lock was held');
    assert.ok(sqliteBusyWaits() > waitsBefore, 'the append waited on a timer');
    holder.exec('ROLLBACK');
    holder.close();
    await append;
    const rows = await store.query({ actor: 'alice', limit: 10 });
    assert.deepEqual(rows.map((r) => r.action), ['token.issue']);
  } finally {
    await db.destroy();
  }
});
