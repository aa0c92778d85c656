/**
 * The web UI's sessions (services/web/session.ts), so they survive a restart and every web
 * replica on the same database sees them. The browser's cookie is the only copy of a
 * session id: the row is keyed by its SHA-256, and what a session holds of the user's
 * (refresh tokens, a single sign-on under way) is sealed with AES-256-GCM under the key
 * file `web.session.keyfile`, so a copy of this table gives neither a usable cookie nor a
 * refresh token. Times are epoch milliseconds.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('web_sessions', (t) => {
    t.string('id_hash', 64).primary();
    t.string('csrf', 64).notNullable();
    t.string('user_name', 255).nullable();
    t.text('sealed').nullable();
    t.text('flash').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at'], 'web_sessions_expires_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('web_sessions');
}
