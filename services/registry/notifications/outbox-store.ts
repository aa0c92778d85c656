/**
 * The outbox and the per-endpoint delivery rows on knex (SQLite and PostgreSQL; one
 * contract suite runs on both). Writers append events in the transaction of the change
 * that caused them. For each endpoint the dispatcher moves a cursor over the outbox and
 * makes a delivery row per event the endpoint wants ("fan-in"), then sends the endpoint's
 * oldest pending deliveries in outbox order. A lease on the endpoint row (claimed with
 * FOR UPDATE SKIP LOCKED on PostgreSQL) keeps replicas from sending one endpoint's events
 * concurrently.
 */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { matchesPattern } from '../../../shared/grammar/repository-pattern.js';
import type { Endpoint } from './endpoint-store.js';
import type { RegistryEvent } from './events.js';

/**
 * On PostgreSQL ids are taken at INSERT but become visible at COMMIT, so a later id can be
 * visible before an earlier one. The cursor never passes a missing id until the row after it
 * is this old: by then the earlier transaction has committed or rolled back (every query
 * has a 10 s deadline; a push's transaction is a handful of them).
 */
export const GAP_WAIT_MS = 30_000;

export interface PendingDelivery {
  id: number;
  outboxId: number;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  event: RegistryEvent;
}

export interface DeliveryLogEntry {
  id: number;
  endpoint: string;
  eventId: string;
  action: string;
  repository: string;
  status: 'pending' | 'delivered';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
}

type Exec = Knex | Knex.Transaction;
const num = (v: number | string | null | undefined): number => Number(v ?? 0);

/** True when the endpoint wants an outbox row (its filters: actions, media types, repositories). */
export function wants(endpoint: Pick<Endpoint, 'ignoredActions' | 'ignoredMediaTypes' | 'repositoryPattern'>, row: { action: string; repository: string; media_type: string | null }): boolean {
  if (endpoint.ignoredActions.includes(row.action)) return false;
  if (row.media_type !== null && endpoint.ignoredMediaTypes.includes(row.media_type)) return false;
  return endpoint.repositoryPattern === null || matchesPattern(endpoint.repositoryPattern, row.repository);
}

export class OutboxStore {
  constructor(readonly db: Knex) {}

  private get postgres(): boolean {
    return this.db.client.config.client === 'pg';
  }

  /** Appends events; `exec` is the transaction of the change that caused them. `ready: false` for a stale event the dispatcher completes. */
  async append(exec: Exec, events: readonly RegistryEvent[], ready = true): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    await exec('notification_outbox').insert(
      events.map((e) => ({
        event_id: e.id,
        action: e.action,
        repository: e.target.repository,
        media_type: e.target.mediaType ?? null,
        payload: JSON.stringify(e),
        ready,
        created_at: now,
      })),
    );
  }

  /** Stale events after `afterId` still waiting for their dependents list (at most `limit`). */
  async unready(afterId: number, limit: number): Promise<Array<{ id: number; event: RegistryEvent }>> {
    const rows: Array<{ id: number | string; payload: string }> = await this.db('notification_outbox').select('id', 'payload').where('id', '>', afterId).andWhere('ready', false).orderBy('id').limit(limit);
    return rows.map((r) => ({ id: num(r.id), event: JSON.parse(r.payload) as RegistryEvent }));
  }

  /** Completes a stale event; null drops it (nothing was built on the previous digest). First writer wins. */
  async complete(id: number, event: RegistryEvent | null): Promise<void> {
    await this.db('notification_outbox').where({ id, ready: false }).update({ ready: true, payload: event === null ? 'null' : JSON.stringify(event) });
  }

  /**
   * Claims (or renews) the lease of every enabled endpoint that is free or already ours;
   * returns the endpoint ids this owner holds until `now + leaseMs`.
   */
  async claim(owner: string, now: number, leaseMs: number): Promise<number[]> {
    const free = (q: Knex.QueryBuilder) => q.where('disabled', false).andWhere((b) => b.where('lease_until', '<', now).orWhere('lease_owner', owner));
    const candidates: Array<{ id: number; lease_owner: string | null; lease_until: number | string }> = await free(this.db('notification_endpoints').select('id', 'lease_owner', 'lease_until'));
    // Renew only past half the lease: an idle registry does not write every tick.
    if (candidates.every((c) => c.lease_owner === owner && num(c.lease_until) > now + leaseMs / 2)) return candidates.map((c) => c.id);
    return this.db.transaction(async (trx) => {
      let query = free(trx('notification_endpoints').select('id'));
      if (this.postgres) query = query.forUpdate().skipLocked();
      const ids = ((await query) as Array<{ id: number }>).map((r) => r.id);
      if (ids.length > 0) await trx('notification_endpoints').whereIn('id', ids).update({ lease_owner: owner, lease_until: now + leaseMs });
      return ids;
    });
  }

  /**
   * At start on SQLite: the database belongs to this host, whose one delivering process is
   * starting, so leases left by a killed predecessor are void (PostgreSQL replicas wait for them to expire).
   */
  async releaseStaleOnSingleHost(): Promise<void> {
    if (!this.postgres) await this.db('notification_endpoints').update({ lease_owner: null, lease_until: 0 });
  }

  /** Gives the leases back (a clean stop), so another replica takes over at once. */
  async release(owner: string): Promise<void> {
    await this.db('notification_endpoints').where({ lease_owner: owner }).update({ lease_owner: null, lease_until: 0 });
  }

  /**
   * Makes delivery rows for up to `limit` outbox rows after the endpoint's cursor and moves
   * the cursor past them; stops before a stale event not yet completed and before a recent
   * gap (GAP_WAIT_MS). Returns how many deliveries it queued, or null when the lease is lost.
   */
  async fanIn(endpoint: Endpoint, owner: string, now: number, limit: number): Promise<number | null> {
    // Read first, outside a transaction: on SQLite a transaction takes the write lock that pushes wait for.
    const state: { cursor: number | string; lease_owner: string | null } | undefined = await this.db('notification_endpoints').first('cursor', 'lease_owner').where({ id: endpoint.id });
    if (!state || state.lease_owner !== owner) return null;
    const cursor = num(state.cursor);
    const rows: Array<{ id: number | string; action: string; repository: string; media_type: string | null; ready: boolean | number; payload: string; created_at: number | string }> = await this.db(
      'notification_outbox',
    )
      .select('id', 'action', 'repository', 'media_type', 'ready', 'payload', 'created_at')
      .where('id', '>', cursor)
      .orderBy('id')
      .limit(limit);
    let last = cursor;
    const queued: Array<Record<string, unknown>> = [];
    for (const row of rows) {
      const id = num(row.id);
      if (id !== last + 1 && now - num(row.created_at) < GAP_WAIT_MS) break;
      if (!row.ready) break;
      last = id;
      if (row.payload !== 'null' && wants(endpoint, row)) {
        queued.push({ endpoint_id: endpoint.id, outbox_id: id, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now });
      }
    }
    if (last === cursor) return 0;
    return this.db.transaction(async (trx) => {
      // Moved only from where it was read, and only by the lease holder: a concurrent step changes nothing twice.
      const moved = await trx('notification_endpoints').where({ id: endpoint.id, cursor, lease_owner: owner }).update({ cursor: last });
      if (moved === 0) return null;
      for (let i = 0; i < queued.length; i += 200) await trx('notification_deliveries').insert(queued.slice(i, i + 200)).onConflict(['endpoint_id', 'outbox_id']).ignore();
      return queued.length;
    });
  }

  /** The endpoint's oldest pending deliveries, in outbox order (at most `limit`). */
  async head(endpointId: number, limit: number): Promise<PendingDelivery[]> {
    const rows: Array<{ id: number | string; outbox_id: number | string; attempts: number; next_attempt_at: number | string; created_at: number | string; payload: string }> = await this.db(
      'notification_deliveries as d',
    )
      .join('notification_outbox as o', 'o.id', 'd.outbox_id')
      .select('d.id', 'd.outbox_id', 'd.attempts', 'd.next_attempt_at', 'o.created_at', 'o.payload')
      .where({ 'd.endpoint_id': endpointId, 'd.status': 'pending' })
      .orderBy('d.outbox_id')
      .limit(limit);
    return rows.map((r) => ({
      id: num(r.id),
      outboxId: num(r.outbox_id),
      attempts: r.attempts,
      nextAttemptAt: num(r.next_attempt_at),
      createdAt: num(r.created_at),
      event: JSON.parse(r.payload) as RegistryEvent,
    }));
  }

  async markDelivered(ids: readonly number[], now: number): Promise<void> {
    await this.db('notification_deliveries').whereIn('id', ids).update({ status: 'delivered', attempts: this.db.raw('attempts + 1'), delivered_at: now, last_error: null });
  }

  async markFailed(ids: readonly number[], error: string, nextAttemptAt: number): Promise<void> {
    await this.db('notification_deliveries').whereIn('id', ids).update({ attempts: this.db.raw('attempts + 1'), next_attempt_at: nextAttemptAt, last_error: error.slice(0, 500) });
  }

  /** Pending deliveries of an endpoint and the age of the oldest (ms), for the lag metrics. */
  async backlog(endpointId: number, now: number): Promise<{ pending: number; lagMs: number }> {
    const row: { pending: number | string; oldest: number | string | null } | undefined = await this.db('notification_deliveries as d')
      .join('notification_outbox as o', 'o.id', 'd.outbox_id')
      .where({ 'd.endpoint_id': endpointId, 'd.status': 'pending' })
      .first(this.db.raw('count(*) as pending'), this.db.raw('min(o.created_at) as oldest'));
    const oldest = row?.oldest;
    return { pending: num(row?.pending), lagMs: oldest === null || oldest === undefined ? 0 : Math.max(0, now - num(oldest)) };
  }

  /** The delivery log, newest first; only `endpoint`'s when given. */
  async deliveries(endpoint: string | undefined, limit: number): Promise<DeliveryLogEntry[]> {
    let query = this.db('notification_deliveries as d')
      .join('notification_endpoints as e', 'e.id', 'd.endpoint_id')
      .join('notification_outbox as o', 'o.id', 'd.outbox_id')
      .select('d.id', 'e.name', 'o.event_id', 'o.action', 'o.repository', 'd.status', 'd.attempts', 'd.last_error', 'd.created_at', 'd.delivered_at', 'd.next_attempt_at')
      .orderBy('d.id', 'desc')
      .limit(limit);
    if (endpoint !== undefined) query = query.where('e.name', endpoint);
    const rows: Array<Record<string, string | number | null>> = await query;
    const iso = (v: string | number | null) => (v === null ? null : new Date(num(v)).toISOString());
    return rows.map((r) => ({
      id: num(r.id),
      endpoint: String(r.name),
      eventId: String(r.event_id),
      action: String(r.action),
      repository: String(r.repository),
      status: r.status === 'delivered' ? 'delivered' : 'pending',
      attempts: num(r.attempts),
      lastError: r.last_error === null ? null : String(r.last_error),
      createdAt: iso(r.created_at)!,
      deliveredAt: iso(r.delivered_at),
      nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    }));
  }

  /** Queues a delivery again (delivered or not): it is sent next, ahead of newer events. NOT_FOUND for an unknown id. */
  async redeliver(id: number, now: number): Promise<void> {
    const changed = await this.db('notification_deliveries').where({ id }).update({ status: 'pending', next_attempt_at: now, delivered_at: null });
    if (changed === 0) throw fail('NOT_FOUND', `no delivery with id ${id}`, { id });
  }

  /**
   * Removes delivered deliveries older than `before` and outbox rows older than it that every
   * endpoint's cursor has passed and nothing still waits for; at most `limit` rows of each.
   */
  async prune(before: number, limit: number): Promise<number> {
    const deliveries = await this.db('notification_deliveries')
      .whereIn('id', this.db('notification_deliveries').select('id').where('status', 'delivered').andWhere('delivered_at', '<', before).limit(limit))
      .delete();
    const min: { cursor?: number | string | null } | undefined = await this.db('notification_endpoints').min({ cursor: 'cursor' }).first();
    let candidates = this.db('notification_outbox as o')
      .select('o.id')
      .where('o.created_at', '<', before)
      .whereNotExists(this.db('notification_deliveries as d').select(this.db.raw('1')).whereRaw('d.outbox_id = o.id').andWhere('d.status', 'pending'))
      .limit(limit);
    if (min?.cursor !== null && min?.cursor !== undefined) candidates = candidates.where('o.id', '<=', num(min.cursor));
    const events = await this.db('notification_outbox').whereIn('id', candidates).delete();
    return deliveries + events;
  }
}
