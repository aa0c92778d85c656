/**
 * Single sign-on (OpenID Connect) and personal access tokens (issue 16).
 *
 * - oidc_identities links a Dockyard user to one identity at an OpenID provider (issuer +
 *   subject), and remembers which group memberships the provider manages.
 * - oidc_logins holds a sign-in in progress (the state, nonce and PKCE verifier) for a few
 *   minutes, in the database so that the callback may land on another replica.
 * - oidc_codes are the one-time codes a web front end redeems at /token; only their
 *   SHA-256 is stored.
 * - access_tokens are users' personal access tokens (a docker login password for
 *   accounts without one); only the SHA-256 of the secret is stored.
 * - refresh_tokens.expires_at bounds the life of a refresh token whatever its use (set for
 *   those issued after a single sign-on).
 */
import type { Knex } from 'knex';

/** Creates the OIDC and access token tables. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oidc_identities', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().unique().references('id').inTable('users').onDelete('CASCADE');
    t.string('issuer', 255).notNullable();
    t.string('subject', 255).notNullable();
    // JSON array of the Dockyard group names the provider's claim put the user in.
    t.text('managed_groups').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_login_at').notNullable();
    t.unique(['issuer', 'subject'], { indexName: 'oidc_identities_subject_uq' });
  });

  await knex.schema.createTable('oidc_logins', (t) => {
    t.increments('id').primary();
    t.string('state_hash', 64).notNullable().unique();
    // SHA-256 of the random value in the browser's cookie: the callback must come from the browser that started.
    t.string('browser_hash', 64).notNullable();
    t.string('nonce', 64).notNullable();
    t.string('code_verifier', 128).notNullable();
    t.string('redirect_uri', 1024).notNullable();
    t.string('client_state', 512).notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at'], 'oidc_logins_expires_idx');
  });

  await knex.schema.createTable('oidc_codes', (t) => {
    t.increments('id').primary();
    t.string('code_hash', 64).notNullable().unique();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('redirect_uri', 1024).notNullable();
    t.bigInteger('expires_at').notNullable();
    t.boolean('used').notNullable().defaultTo(false);
    t.index(['expires_at'], 'oidc_codes_expires_idx');
  });

  await knex.schema.createTable('access_tokens', (t) => {
    t.increments('id').primary();
    // The public part of the token, looked up first; the secret is then compared in constant time.
    t.string('lookup_id', 16).notNullable().unique();
    t.string('secret_hash', 64).notNullable();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('name', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('last_used_at').nullable();
    t.boolean('revoked').notNullable().defaultTo(false);
    t.unique(['user_id', 'name'], { indexName: 'access_tokens_user_name_uq' });
  });

  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.bigInteger('expires_at').nullable();
  });
}

/** Drops them again. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.dropColumn('expires_at');
  });
  for (const table of ['access_tokens', 'oidc_codes', 'oidc_logins', 'oidc_identities']) {
    await knex.schema.dropTableIfExists(table);
  }
}
