/**
 * Storage quotas per namespace (the first component of repository names), see
 * services/registry/lifecycle/quotas.ts. A null limit is no limit.
 */
import type { Knex } from 'knex';

/** Creates the quota table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('namespace_quotas', (table) => {
    table.string('namespace', 255).primary('namespace_quotas_pkey');
    table.bigInteger('hard_bytes').nullable();
    table.bigInteger('soft_bytes').nullable();
    table.string('updated_by', 255).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });
}

/** Drops the quota table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('namespace_quotas');
}
