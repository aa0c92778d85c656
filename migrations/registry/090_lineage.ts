/**
 * Image lineage and tag history (services/registry/events). Lineage rows are written at
 * push time, so "what is built on X" is an index lookup, never a scan of all manifests:
 * each image manifest stores the hash of every prefix of its layer list, and an image is
 * built on another when the other's full-chain hash is one of its proper prefixes.
 */
import type { Knex } from 'knex';

const DIGEST_LENGTH = 200;
// Hex sha256 of a layer chain.
const CHAIN_HASH_LENGTH = 64;

/** Same byte-ordered string column as 001_initial (COLLATE "C" on PostgreSQL). */
function byteOrdered(knex: Knex, table: Knex.CreateTableBuilder, column: string, length: number): Knex.ColumnBuilder {
  if (knex.client.dialect === 'postgresql') return table.specificType(column, `varchar(${length}) COLLATE "C"`);
  return table.string(column, length);
}

/** Creates the lineage and tag-history tables. */
export async function up(knex: Knex): Promise<void> {
  // A base-digest annotation names a digest without its repository. An index on
  // manifests.digest would answer that too, but PostgreSQL then picks it over the unique
  // (repository_id, digest) index for every manifest GET; this table keeps that plan.
  await knex.schema.createTable('lineage_manifests', (table) => {
    table.integer('manifest_id').notNullable().primary().references('id').inTable('manifests').onDelete('CASCADE');
    byteOrdered(knex, table, 'digest', DIGEST_LENGTH).notNullable();
    table.index(['digest'], 'lineage_manifests_digest_index');
  });

  await knex.schema.createTable('image_layer_prefixes', (table) => {
    table.integer('manifest_id').notNullable().references('id').inTable('manifests').onDelete('CASCADE');
    // Number of layers in this prefix (1 … the image's layer count).
    table.integer('depth').notNullable();
    table.string('prefix_hash', CHAIN_HASH_LENGTH).notNullable();
    // True on the row covering every layer: that hash is the image's own chain.
    table.boolean('is_full').notNullable();
    table.primary(['manifest_id', 'depth'], 'image_layer_prefixes_pkey');
    // Dependents: "who has this chain as a prefix"; bases: "whose full chain is this hash".
    table.index(['prefix_hash', 'is_full'], 'image_layer_prefixes_hash_index');
  });

  await knex.schema.createTable('image_base_annotations', (table) => {
    table.integer('manifest_id').notNullable().primary().references('id').inTable('manifests').onDelete('CASCADE');
    table.string('base_name', 1024).nullable();
    byteOrdered(knex, table, 'base_digest', DIGEST_LENGTH).nullable();
    table.index(['base_digest'], 'image_base_annotations_digest_index');
  });

  await knex.schema.createTable('tag_history', (table) => {
    table.increments('id').primary();
    // History outlives the manifests it names, so no foreign key to them; repositories are never deleted.
    table.integer('repository_id').notNullable().references('id').inTable('repositories').onDelete('CASCADE');
    byteOrdered(knex, table, 'tag', 128).notNullable();
    byteOrdered(knex, table, 'old_digest', DIGEST_LENGTH).nullable();
    byteOrdered(knex, table, 'new_digest', DIGEST_LENGTH).nullable();
    table.string('actor', 255).nullable();
    table.timestamp('moved_at', { useTz: true }).notNullable();
    // A tag's history, newest first.
    table.index(['repository_id', 'tag', 'id'], 'tag_history_tag_index');
  });
}

/** Drops everything `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('tag_history');
  await knex.schema.dropTableIfExists('image_base_annotations');
  await knex.schema.dropTableIfExists('image_layer_prefixes');
  await knex.schema.dropTableIfExists('lineage_manifests');
}
