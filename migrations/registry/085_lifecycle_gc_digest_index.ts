/**
 * An index on manifests (digest, repository_id) for the garbage collector: "is this digest
 * a manifest of any repository" (lifecycle/gc-store.ts referencedAmong, once per page of
 * candidates and per swept directory) otherwise scans every manifest, so a collection's
 * cost would grow with the registry's size rather than with the garbage. blob_links and
 * manifest_references already have their digest index. Not digest alone: PostgreSQL then
 * prefers it for a manifest GET by repository and digest and filters the repository out of
 * every manifest with that digest (one per repository holding the image); with the
 * repository in the index both columns narrow the lookup whichever index it picks.
 */
import type { Knex } from 'knex';

/** Adds the index. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manifests', (table) => {
    table.index(['digest', 'repository_id'], 'manifests_digest_repository_index');
  });
}

/** Drops the index. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manifests', (table) => {
    table.dropIndex(['digest', 'repository_id'], 'manifests_digest_repository_index');
  });
}
