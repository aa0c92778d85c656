/**
 * Notifications (services/registry/notifications): the endpoints events go to, the durable
 * outbox every change writes its events into (in the change's own transaction), and one
 * delivery row per endpoint and event, which is both the retry state and the delivery log.
 */
import type { Knex } from 'knex';

/** Creates the endpoint, outbox and delivery tables. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_endpoints', (table) => {
    table.increments('id').primary();
    table.string('name', 64).notNullable().unique('notification_endpoints_name_unique');
    table.string('url', 2048).notNullable();
    // AES-256-GCM under the registry's notification key (notifications/secrets.ts); never the plain secret.
    table.text('secret_sealed').nullable();
    // JSON: header name -> list of values, sent with every request.
    table.text('headers').notNullable();
    table.integer('timeout_ms').notNullable();
    table.integer('threshold').notNullable();
    table.integer('backoff_ms').notNullable();
    // JSON lists.
    table.text('ignored_media_types').notNullable();
    table.text('ignored_actions').notNullable();
    table.string('repository_pattern', 255).nullable();
    table.string('format', 16).notNullable();
    table.boolean('disabled').notNullable();
    // config (from the configuration file, replaced at every start) | api (admin API and CLI).
    table.string('source', 16).notNullable();
    // Outbox id up to which events were looked at for this endpoint (delivery rows made).
    table.bigInteger('cursor').notNullable();
    // Delivery lease: the one process sending for this endpoint until lease_until (ms since epoch).
    table.string('lease_owner', 64).nullable();
    table.bigInteger('lease_until').notNullable();
    table.string('created_by', 255).notNullable();
    table.bigInteger('created_at').notNullable();
  });
  await knex.schema.createTable('notification_outbox', (table) => {
    // The order of events: ids are assigned at commit order closely enough for one writer (SQLite) and per transaction on PostgreSQL.
    table.bigIncrements('id').primary();
    table.string('event_id', 64).notNullable();
    table.string('action', 16).notNullable();
    table.string('repository', 255).notNullable();
    table.string('media_type', 255).nullable();
    // The event as JSON (distribution's event object); a `stale` event is completed by the dispatcher (ready false until then).
    table.text('payload').notNullable();
    table.boolean('ready').notNullable();
    table.bigInteger('created_at').notNullable();
    // Stale events waiting for their dependents list are found without a scan.
    table.index(['ready', 'id'], 'notification_outbox_ready_index');
  });
  await knex.schema.createTable('notification_deliveries', (table) => {
    table.bigIncrements('id').primary();
    table.integer('endpoint_id').notNullable().references('id').inTable('notification_endpoints').onDelete('CASCADE');
    table.bigInteger('outbox_id').notNullable().references('id').inTable('notification_outbox').onDelete('CASCADE');
    // pending | delivered
    table.string('status', 16).notNullable();
    table.integer('attempts').notNullable();
    table.bigInteger('next_attempt_at').notNullable();
    table.string('last_error', 512).nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('delivered_at').nullable();
    table.unique(['endpoint_id', 'outbox_id'], { indexName: 'notification_deliveries_unique' });
    // The head of an endpoint's queue: its oldest pending delivery.
    table.index(['endpoint_id', 'status', 'outbox_id'], 'notification_deliveries_queue_index');
  });
}

/** Drops everything `up` created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notification_deliveries');
  await knex.schema.dropTableIfExists('notification_outbox');
  await knex.schema.dropTableIfExists('notification_endpoints');
}
