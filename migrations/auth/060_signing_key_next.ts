/**
 * The next signing key (auth.keystore: database): published in the JWKS ahead of use, so
 * every verifier already knows it when a rotation makes it sign. The current key is the
 * row without `retain_until` and without `is_next`; the next key has `is_next`.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (t) => {
    t.boolean('is_next').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  // Without the column the next key would look like a second current key.
  await knex('signing_keys').where({ is_next: true }).delete();
  await knex.schema.alterTable('signing_keys', (t) => {
    t.dropColumn('is_next');
  });
}
