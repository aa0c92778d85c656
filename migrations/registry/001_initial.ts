/**
 * The registry's index: repositories, blob links, manifests with their references, tags.
 * Every hot lookup and every listing page is answered by one of the unique indexes or
 * named indexes below, so its cost does not grow with the number of rows (the query-plan
 * test in test/contracts/metadata-query-plans.test.ts checks this on both dialects).
 */
import type { Knex } from 'knex';

// Long enough for `sha512:` + 128 hex characters with room for future algorithms.
const DIGEST_LENGTH = 200;
const MEDIA_TYPE_LENGTH = 255;

/**
 * A string column that compares and sorts by byte value. SQLite's default BINARY collation
 * already does; PostgreSQL's default collation follows the locale (ignores punctuation,
 * folds case at the first level), so it gets COLLATE "C" and both dialects page and order
 * identically. Names, tags and digests all use it.
 */
function byteOrdered(knex: Knex, table: Knex.CreateTableBuilder, column: string, length: number): Knex.ColumnBuilder {
  if (knex.client.dialect === 'postgresql') return table.specificType(column, `varchar(${length}) COLLATE "C"`);
  return table.string(column, length);
}

/** Creates the registry tables and indexes. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('repositories', (table) => {
    table.increments('id').primary();
    byteOrdered(knex, table, 'name', 255).notNullable();
    // Serves the catalog page (`name > ? ORDER BY name`) and name → id lookups.
    table.unique(['name'], { indexName: 'repositories_name_unique' });
    table.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('blob_links', (table) => {
    table.integer('repository_id').notNullable().references('id').inTable('repositories').onDelete('CASCADE');
    byteOrdered(knex, table, 'digest', DIGEST_LENGTH).notNullable();
    table.bigInteger('size').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.unique(['repository_id', 'digest'], { indexName: 'blob_links_repository_digest_unique' });
    // findBlob (mount without `from`) and GC ask "who links this digest" across repositories.
    table.index(['digest'], 'blob_links_digest_index');
  });

  await knex.schema.createTable('manifests', (table) => {
    table.increments('id').primary();
    table.integer('repository_id').notNullable().references('id').inTable('repositories').onDelete('CASCADE');
    byteOrdered(knex, table, 'digest', DIGEST_LENGTH).notNullable();
    table.string('media_type', MEDIA_TYPE_LENGTH).notNullable();
    table.bigInteger('size').notNullable();
    table.string('artifact_type', MEDIA_TYPE_LENGTH).nullable();
    byteOrdered(knex, table, 'subject', DIGEST_LENGTH).nullable();
    table.text('annotations').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.unique(['repository_id', 'digest'], { indexName: 'manifests_repository_digest_unique' });
    // Referrers: (repository_id, subject) finds them, the trailing digest returns them already
    // in the order listReferrers promises, so no plan ever prefers walking a whole repository.
    table.index(['repository_id', 'subject', 'digest'], 'manifests_repository_subject_index');
  });

  await knex.schema.createTable('manifest_references', (table) => {
    table.integer('manifest_id').notNullable().references('id').inTable('manifests').onDelete('CASCADE');
    // 'blob' (config, layers) or 'manifest' (children of an index).
    table.string('kind', 16).notNullable();
    byteOrdered(knex, table, 'digest', DIGEST_LENGTH).notNullable();
    table.primary(['manifest_id', 'kind', 'digest'], 'manifest_references_pkey');
    // GC and delete checks ask "which manifests reference this digest".
    table.index(['digest'], 'manifest_references_digest_index');
  });

  await knex.schema.createTable('tags', (table) => {
    table.integer('repository_id').notNullable().references('id').inTable('repositories').onDelete('CASCADE');
    byteOrdered(knex, table, 'name', 128).notNullable();
    byteOrdered(knex, table, 'digest', DIGEST_LENGTH).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    // Serves tag resolve and the tag page (`repository_id = ? AND name > ? ORDER BY name`).
    table.unique(['repository_id', 'name'], { indexName: 'tags_repository_name_unique' });
    // A tag can only point at a manifest of its own repository; deleting the manifest drops its tags.
    table
      .foreign(['repository_id', 'digest'], 'tags_manifest_foreign')
      .references(['repository_id', 'digest'])
      .inTable('manifests')
      .onDelete('CASCADE');
    table.index(['repository_id', 'digest'], 'tags_repository_digest_index');
  });
}

/** Drops everything `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('tags');
  await knex.schema.dropTableIfExists('manifest_references');
  await knex.schema.dropTableIfExists('manifests');
  await knex.schema.dropTableIfExists('blob_links');
  await knex.schema.dropTableIfExists('repositories');
}
