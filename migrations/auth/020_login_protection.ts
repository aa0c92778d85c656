/**
 * Login protection (issues 10.3 and 18). Login attempts are reserved before the password
 * is checked, one row per attempt carrying both the account and the client address, so
 * one table feeds the per (account, address), per address and per account counters and an
 * admin can clear an account's rows. Users get a credential version that password
 * changes, disabling and deletion move on; refresh tokens record the user id and the
 * version they were issued under, and redeem only while both still match.
 */
import type { Knex } from 'knex';

/** Replaces login_failures by login_attempts; adds credential versions. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_failures');
  await knex.schema.createTable('login_attempts', (t) => {
    t.bigIncrements('id').primary();
    // A random id for one reservation, so a success deletes exactly its own row.
    t.string('attempt', 32).notNullable();
    // NULL when the name fits no account grammar: such attempts count against the address only.
    t.string('account', 140).nullable();
    t.string('address', 64).notNullable();
    t.bigInteger('at').notNullable();
    t.index(['account', 'address', 'at'], 'login_attempts_account_idx');
    t.index(['address', 'at'], 'login_attempts_address_idx');
    t.index(['at'], 'login_attempts_at_idx');
    t.index(['attempt'], 'login_attempts_attempt_idx');
  });
  await knex.schema.alterTable('users', (t) => {
    t.integer('credential_version').notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.integer('user_id').nullable();
    t.integer('credential_version').nullable();
  });
  // Live user tokens keep working: they are bound to the user now holding their name.
  await knex('refresh_tokens')
    .where({ subject_kind: 'user' })
    .update({
      user_id: knex('users').select('id').where('users.name', knex.ref('refresh_tokens.subject_name')),
      credential_version: 0,
    });
}

/** Restores login_failures and drops the credential versions. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.dropColumn('credential_version');
    t.dropColumn('user_id');
  });
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('credential_version');
  });
  await knex.schema.dropTableIfExists('login_attempts');
  await knex.schema.createTable('login_failures', (t) => {
    t.bigIncrements('id').primary();
    t.string('key_kind', 8).notNullable();
    t.string('key', 140).notNullable();
    t.bigInteger('at').notNullable();
    t.index(['key_kind', 'key', 'at'], 'login_failures_key_idx');
    t.index(['at'], 'login_failures_at_idx');
  });
}
