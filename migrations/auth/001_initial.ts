/**
 * The auth service's tables: users, groups, robots, grants, refresh tokens, audit and
 * login failures. Times are epoch milliseconds in BIGINT columns so SQLite and PostgreSQL
 * hold the same values (no timezone or driver-specific date conversion). Secrets are never
 * stored: passwords as bcrypt hashes, robot secrets and refresh tokens as SHA-256 hex.
 */
import type { Knex } from 'knex';

/** Creates every auth table. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('name', 128).notNullable().unique();
    t.string('password_hash', 100).notNullable();
    t.boolean('admin').notNullable().defaultTo(false);
    t.boolean('disabled').notNullable().defaultTo(false);
    t.bigInteger('password_changed_at').notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('groups', (t) => {
    t.increments('id').primary();
    t.string('name', 128).notNullable().unique();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('group_members', (t) => {
    t.integer('group_id').notNullable().references('id').inTable('groups').onDelete('CASCADE');
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.primary(['group_id', 'user_id']);
    // Token requests look up a user's groups; the primary key serves the other direction.
    t.index(['user_id'], 'group_members_user_idx');
  });

  await knex.schema.createTable('robots', (t) => {
    t.increments('id').primary();
    t.string('name', 140).notNullable().unique();
    t.string('secret_hash', 64).notNullable();
    t.bigInteger('expires_at').nullable();
    t.boolean('revoked').notNullable().defaultTo(false);
    t.bigInteger('last_used_at').nullable();
    t.string('created_by', 128).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('grants', (t) => {
    t.increments('id').primary();
    // user | group | robot | anonymous | authenticated; the name is '' for the last two.
    t.string('subject_kind', 16).notNullable();
    t.string('subject_name', 140).notNullable().defaultTo('');
    t.string('pattern', 255).notNullable();
    // Comma separated: pull, push, delete or *.
    t.string('actions', 64).notNullable();
    t.string('created_by', 128).notNullable();
    t.bigInteger('created_at').notNullable();
    t.unique(['subject_kind', 'subject_name', 'pattern'], { indexName: 'grants_subject_pattern_uq' });
  });

  await knex.schema.createTable('refresh_tokens', (t) => {
    t.increments('id').primary();
    t.string('token_hash', 64).notNullable().unique();
    t.string('subject_kind', 16).notNullable();
    t.string('subject_name', 140).notNullable();
    t.string('service', 255).notNullable();
    t.string('client_id', 255).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').notNullable();
    t.boolean('revoked').notNullable().defaultTo(false);
    t.index(['subject_kind', 'subject_name'], 'refresh_tokens_subject_idx');
  });

  await knex.schema.createTable('audit', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('at').notNullable();
    t.string('actor', 140).notNullable();
    t.string('action', 64).notNullable();
    t.string('target', 512).notNullable().defaultTo('');
    t.string('client_address', 64).notNullable().defaultTo('');
    t.string('outcome', 32).notNullable();
    t.text('details').notNullable();
    t.index(['at'], 'audit_at_idx');
    t.index(['actor', 'id'], 'audit_actor_idx');
    t.index(['action', 'id'], 'audit_action_idx');
  });

  await knex.schema.createTable('login_failures', (t) => {
    t.bigIncrements('id').primary();
    // 'account' or 'address': the two counters a failed login feeds.
    t.string('key_kind', 8).notNullable();
    t.string('key', 140).notNullable();
    t.bigInteger('at').notNullable();
    t.index(['key_kind', 'key', 'at'], 'login_failures_key_idx');
    t.index(['at'], 'login_failures_at_idx');
  });
}

/** Drops every auth table (children first). */
export async function down(knex: Knex): Promise<void> {
  for (const table of ['login_failures', 'audit', 'refresh_tokens', 'grants', 'robots', 'group_members', 'groups', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
