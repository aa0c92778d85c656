// SqliteReads: prepared hot reads on a second, read-only SQLite connection. They must see
// every committed write at once, never a transaction's uncommitted rows, bind parameters in
// the builder's order, and close with the knex instance they belong to.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Knex } from '../../../shared/db/index.js';
import { SqliteReads } from '../../../shared/db/sqlite-reads.js';

describe('SqliteReads', () => {
  let dir: string;
  let db: Knex;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockyard-sqlite-reads-'));
    db = openDatabase({ client: 'sqlite', filename: join(dir, 'db.sqlite') });
    await db.schema.createTable('items', (t) => {
      t.increments('id');
      t.string('owner').notNullable();
      t.string('name').notNullable();
    });
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds parameters in the order the builder uses them, including a LIMIT', async () => {
    await db('items').insert([
      { owner: 'a', name: 'x' },
      { owner: 'a', name: 'y' },
      { owner: 'a', name: 'z' },
      { owner: 'b', name: 'y' },
    ]);
    const reads = SqliteReads.forKnex(db)!;
    const page = reads.prepare(['string', 'string', 'number'], (q, owner: string, after: string, n: number) =>
      q('items').select('name').where('owner', owner).andWhere('name', '>', after).orderBy('name').limit(n),
    );
    assert.deepEqual(page.all('a', 'x', 1), [{ name: 'y' }]);
    assert.deepEqual(page.all('a', 'x', 5), [{ name: 'y' }, { name: 'z' }]);
    assert.deepEqual(page.all('b', 'a', 5), [{ name: 'y' }]);
    const one = reads.prepare(['string'], (q, name: string) => q('items').first('owner').where({ name }).orderBy('owner'));
    assert.deepEqual(one.get('y'), { owner: 'a' });
    assert.equal(one.get('nothing'), undefined);
  });

  it('inlines integer bindings as literals without touching a quoted ?, for any number of distinct page sizes', async () => {
    await db('items').insert(Array.from({ length: 40 }, (_, i) => ({ owner: 'p', name: `n${String(i).padStart(2, '0')}` })));
    const reads = SqliteReads.forKnex(db)!;
    const page = reads.prepare(['string', 'number'], (q, owner: string, n: number) =>
      q('items').select(q.raw(`'a?b' as mark`), 'name').where('owner', owner).orderBy('name').limit(n),
    );
    // More distinct sizes than statements kept per read: evicted ones compile again.
    for (const n of [1, 5, ...Array.from({ length: 20 }, (_, i) => i + 10), 1, 5]) {
      const rows = page.all<{ mark: string; name: string }>('p', n);
      assert.equal(rows.length, n);
      assert.deepEqual(rows.map((r) => r.name), Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, '0')}`));
      assert.ok(rows.every((r) => r.mark === 'a?b'));
    }
    assert.deepEqual(page.all('nobody', 3), []);
  });

  it('sees committed writes at once and never the rows of a transaction still open', async () => {
    const reads = SqliteReads.forKnex(db)!;
    const count = reads.prepare(['string'], (q, owner: string) => q('items').count({ n: '*' }).where({ owner }).first());
    assert.deepEqual(count.get('c'), { n: 0 });
    await db('items').insert({ owner: 'c', name: 'committed' });
    assert.deepEqual(count.get('c'), { n: 1 });
    await db.transaction(async (trx) => {
      await trx('items').insert({ owner: 'c', name: 'pending' });
      assert.deepEqual(count.get('c'), { n: 1 }, 'an uncommitted row is invisible to the read connection');
    });
    assert.deepEqual(count.get('c'), { n: 2 });
  });

  it('is one per knex instance, absent for :memory:, and closes when the database is destroyed', async () => {
    const reads = SqliteReads.forKnex(db)!;
    assert.equal(SqliteReads.forKnex(db), reads);
    const memory = openDatabase({ client: 'sqlite', filename: ':memory:' });
    try {
      assert.equal(SqliteReads.forKnex(memory), null);
    } finally {
      await memory.destroy();
    }
    const any = reads.prepare([], (q) => q('items').first('id'));
    assert.equal(any.get(), undefined);
    await db.destroy();
    assert.throws(() => any.get(), /not open|closed/);
    // afterEach destroys again; a fresh instance keeps that harmless.
    db = openDatabase({ client: 'sqlite', filename: join(dir, 'db.sqlite') });
  });
});
