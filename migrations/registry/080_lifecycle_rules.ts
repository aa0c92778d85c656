/**
 * Tag rules (services/registry/lifecycle/tag-rules.ts) and the audit log of changes to
 * the registry's lifecycle settings. Rules live in the registry's own database, so every
 * manifest PUT and DELETE is checked against them whatever issued the client's token.
 */
import type { Knex } from 'knex';

/** Creates the rule and audit tables. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tag_rules', (table) => {
    table.increments('id').primary();
    // immutable | forbidden | format
    table.string('kind', 16).notNullable();
    table.string('repository_pattern', 255).notNullable();
    table.string('tag_pattern', 255).notNullable();
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.unique(['kind', 'repository_pattern', 'tag_pattern'], { indexName: 'tag_rules_unique' });
  });
  await knex.schema.createTable('lifecycle_audit', (table) => {
    table.increments('id').primary();
    table.timestamp('at', { useTz: true }).notNullable();
    table.string('actor', 255).notNullable();
    table.string('action', 64).notNullable();
    table.string('target', 512).notNullable();
    table.text('details').notNullable();
  });
}

/** Drops the rule and audit tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('lifecycle_audit');
  await knex.schema.dropTableIfExists('tag_rules');
}
