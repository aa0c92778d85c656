// Query plans for the plan tests (test/contracts/*query-plans.test.ts), one line per plan row.
import type { Knex } from '../../shared/db/index.js';

/** SQLite's EXPLAIN QUERY PLAN of a knex query. */
export async function sqlitePlan(db: Knex, query: Knex.QueryBuilder): Promise<string[]> {
  const { sql, bindings } = query.toSQL();
  const rows: Array<{ detail: string }> = await db.raw(`explain query plan ${sql}`, bindings);
  return rows.map((row) => row.detail);
}

/**
 * On tables this small a sequential scan is PostgreSQL's cheapest choice, so the plan is
 * taken with sequential scans priced out: one remains only where no index can serve.
 */
export async function postgresPlan(db: Knex, query: Knex.QueryBuilder): Promise<string[]> {
  const { sql, bindings } = query.toSQL();
  return db.transaction(async (trx) => {
    await trx.raw('set local enable_seqscan = off');
    const result: { rows: Array<{ 'QUERY PLAN': string }> } = await trx.raw(`explain ${sql}`, bindings);
    return result.rows.map((row) => row['QUERY PLAN']);
  });
}
