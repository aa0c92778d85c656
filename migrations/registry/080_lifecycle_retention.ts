/**
 * Retention policies (services/registry/lifecycle/retention.ts): per repository pattern
 * and tag pattern, keep the N most recently pushed tags and/or those pushed within N days.
 */
import type { Knex } from 'knex';

/** Creates the policy table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('retention_policies', (table) => {
    table.increments('id').primary();
    table.string('repository_pattern', 255).notNullable();
    table.string('tag_pattern', 255).notNullable();
    table.integer('keep_last').nullable();
    table.integer('keep_days').nullable();
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
  });
}

/** Drops the policy table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('retention_policies');
}
