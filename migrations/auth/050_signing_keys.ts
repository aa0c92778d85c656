/**
 * Token signing keys in the auth database (auth.keystore: database), so every auth replica,
 * on any host, signs with the same current key and publishes the same retired ones. The
 * private key is stored sealed (AES-256-GCM under a key-encryption key that is a file on
 * each host, never in the database); the certificate is public. The current key is the row
 * without `retain_until`.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.text('certificate').notNullable();
    t.text('sealed_private_key').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('retain_until').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('signing_keys');
}
