/**
 * Garbage collection state (services/registry/lifecycle/gc.ts). `gc_reviews` is the review
 * queue: one row per digest that must not be deleted before `review_after_ms` (epoch ms),
 * bumped by every upload, mount, HEAD, link and manifest push that touches the digest and
 * consumed by the collector when it re-checks the digest. `gc_state` keeps the storage
 * sweep's resumable cursor. Times are integers so both dialects compare them the same way.
 */
import type { Knex } from 'knex';

const DIGEST_LENGTH = 200;

/** Creates the GC tables. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gc_reviews', (table) => {
    if (knex.client.dialect === 'postgresql') table.specificType('digest', `varchar(${DIGEST_LENGTH}) COLLATE "C"`).notNullable();
    else table.string('digest', DIGEST_LENGTH).notNullable();
    table.primary(['digest'], 'gc_reviews_pkey');
    table.bigInteger('review_after_ms').notNullable();
    // The collector takes the due rows oldest first.
    table.index(['review_after_ms', 'digest'], 'gc_reviews_due_index');
  });
  await knex.schema.createTable('gc_state', (table) => {
    table.string('name', 64).primary('gc_state_pkey');
    table.text('value').notNullable();
  });
}

/** Drops the GC tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('gc_state');
  await knex.schema.dropTableIfExists('gc_reviews');
}
