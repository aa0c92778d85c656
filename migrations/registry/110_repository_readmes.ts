/**
 * Repository READMEs for the web UI (services/registry/browse): one Markdown text per
 * repository, written by users with push on it. Read and written by primary key only.
 */
import type { Knex } from 'knex';

/** Creates the README table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('repository_readmes', (table) => {
    table.integer('repository_id').notNullable().primary().references('id').inTable('repositories').onDelete('CASCADE');
    table.text('content').notNullable();
    table.string('updated_by', 255).nullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });
}

/** Drops the README table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('repository_readmes');
}
