/**
 * An index on manifests.digest for the garbage collector: "is this digest a manifest of any
 * repository" (lifecycle/gc-store.ts referencedAmong, once per page of candidates and per
 * swept directory) otherwise scans every manifest, so a collection's cost would grow with
 * the registry's size rather than with the garbage. blob_links and manifest_references
 * already have their digest index.
 */
import type { Knex } from 'knex';

/** Adds the index. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manifests', (table) => {
    table.index(['digest'], 'manifests_digest_index');
  });
}

/** Drops the index. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manifests', (table) => {
    table.dropIndex(['digest'], 'manifests_digest_index');
  });
}
