/**
 * "Last pulled" for retention by pulls (services/registry/lifecycle/pull-times.ts,
 * retention.ts): epoch milliseconds of the latest manifest GET or HEAD by tag (on the tag)
 * and by digest (on the manifest), written in batches, null until the first pull. A
 * retention policy counts pushes or pulls (`basis`, 'push' for the policies that exist).
 */
import type { Knex } from 'knex';

/** Adds the columns. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tags', (table) => {
    table.bigInteger('last_pulled_ms').nullable();
  });
  await knex.schema.alterTable('manifests', (table) => {
    table.bigInteger('last_pulled_ms').nullable();
  });
  await knex.schema.alterTable('retention_policies', (table) => {
    table.string('basis', 8).notNullable().defaultTo('push');
  });
}

/** Drops the columns. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('retention_policies', (table) => {
    table.dropColumn('basis');
  });
  await knex.schema.alterTable('manifests', (table) => {
    table.dropColumn('last_pulled_ms');
  });
  await knex.schema.alterTable('tags', (table) => {
    table.dropColumn('last_pulled_ms');
  });
}
