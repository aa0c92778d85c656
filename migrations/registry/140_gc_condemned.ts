/**
 * The collector's marks on digests it has decided to remove and is moving out of /blobs
 * (services/registry/lifecycle/gc-condemned.ts): one row per digest, with the page (`batch`)
 * that condemned it and when. The marks let the moves happen after the deciding
 * transaction's commit, outside the database's write lock, while every push of the digest
 * waits for them to end.
 */
import type { Knex } from 'knex';

const DIGEST_LENGTH = 200;

/** Creates the table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gc_condemned', (table) => {
    if (knex.client.dialect === 'postgresql') table.specificType('digest', `varchar(${DIGEST_LENGTH}) COLLATE "C"`).notNullable();
    else table.string('digest', DIGEST_LENGTH).notNullable();
    table.primary(['digest'], 'gc_condemned_pkey');
    table.string('batch', 32).notNullable();
    table.bigInteger('condemned_at_ms').notNullable();
    table.index(['batch'], 'gc_condemned_batch_index');
  });
}

/** Drops the table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('gc_condemned');
}
