/**
 * The audit trail: who did what to which target, from where, with what outcome. Details
 * are JSON; callers never put passwords, secrets or tokens in them.
 */
import type { Knex } from 'knex';
import { toMillis, type Queryable } from './common.js';

/** One audit entry as written. */
export interface AuditEntry {
  at: number;
  /** User or robot name, `cli`, or '' for anonymous. */
  actor: string;
  /** e.g. `token.issue`, `user.create`, `grant.remove`. */
  action: string;
  target: string;
  clientAddress: string;
  /** e.g. `ok`, `denied`, `throttled`. */
  outcome: string;
  details: Record<string, unknown>;
}

/** One audit entry as read back. */
export interface AuditRecord extends AuditEntry {
  id: number;
}

/** Filters for an audit query; `before` is the id cursor of the previous page. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: string;
  since?: number;
  until?: number;
  before?: number;
  limit: number;
}

interface AuditRow {
  id: unknown;
  at: unknown;
  actor: string;
  action: string;
  target: string;
  client_address: string;
  outcome: string;
  details: string;
}

const FIELD_MAX = { actor: 140, action: 64, target: 512, client_address: 64, outcome: 32 };

function clip(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

function toRow(entry: AuditEntry): Omit<AuditRow, 'id'> {
  return {
    at: entry.at,
    actor: clip(entry.actor, FIELD_MAX.actor),
    action: clip(entry.action, FIELD_MAX.action),
    target: clip(entry.target, FIELD_MAX.target),
    client_address: clip(entry.clientAddress, FIELD_MAX.client_address),
    outcome: clip(entry.outcome, FIELD_MAX.outcome),
    details: JSON.stringify(entry.details),
  };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { raw: text };
  }
}

function fromRow(row: AuditRow): AuditRecord {
  return {
    id: Number(row.id),
    at: toMillis(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    clientAddress: row.client_address,
    outcome: row.outcome,
    details: parseDetails(row.details),
  };
}

/** The audit table. */
export class AuditStore {
  constructor(private readonly db: Knex) {}

  /** Appends entries (one statement for the whole batch). */
  async append(entries: readonly AuditEntry[], trx?: Queryable): Promise<void> {
    if (entries.length === 0) return;
    await (trx ?? this.db)('audit').insert(entries.map(toRow));
  }

  /** Entries matching `query`, newest first, at most `query.limit`. */
  async query(query: AuditQuery, trx?: Queryable): Promise<AuditRecord[]> {
    const q = (trx ?? this.db)<AuditRow>('audit').orderBy('id', 'desc').limit(query.limit);
    if (query.actor !== undefined) q.where('actor', query.actor);
    if (query.action !== undefined) q.where('action', query.action);
    if (query.target !== undefined) q.where('target', query.target);
    if (query.outcome !== undefined) q.where('outcome', query.outcome);
    if (query.since !== undefined) q.where('at', '>=', query.since);
    if (query.until !== undefined) q.where('at', '<', query.until);
    if (query.before !== undefined) q.where('id', '<', query.before);
    return (await q).map(fromRow);
  }
}
