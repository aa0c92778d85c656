/**
 * The browse API's tags-by-push-date page (services/registry/browse, `?sort=pushed`): an
 * index walked backwards from a (push date, name) position, so a page costs the page, not
 * the repository's tag count.
 */
import type { Knex } from 'knex';

/** Adds the index. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tags', (table) => {
    table.index(['repository_id', 'updated_at', 'name'], 'tags_repository_pushed_index');
  });
}

/** Drops the index. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tags', (table) => {
    table.dropIndex(['repository_id', 'updated_at', 'name'], 'tags_repository_pushed_index');
  });
}
