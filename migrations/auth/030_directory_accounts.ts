/**
 * Directory sign-in (issue 16): a user signing in through a directory (LDAP / AD) gets an
 * ordinary users row, so grants, group memberships, the admin and disabled flags and
 * refresh tokens work for it unchanged; this table marks such rows as the directory's
 * (which source, which entry), so they are re-checked there and never by a local password.
 */
import type { Knex } from 'knex';

/** Adds directory_accounts. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('directory_accounts', (t) => {
    t.integer('user_id').primary().references('id').inTable('users').onDelete('CASCADE');
    // The identity source, e.g. `ldap`.
    t.string('source', 16).notNullable();
    t.string('dn', 1024).notNullable();
    t.bigInteger('linked_at').notNullable();
  });
}

/** Drops directory_accounts. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('directory_accounts');
}
