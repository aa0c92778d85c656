/**
 * Notification endpoints in the registry database. Endpoints from the configuration file
 * (source `config`) are replaced at every start; endpoints added through the admin API or
 * CLI (source `api`) stay until removed. Every API/CLI change is written to the lifecycle
 * audit log (`/v2/_dockyard/audit`, `rules audit`) in the same transaction. A new endpoint
 * starts at the end of the outbox: it receives the events that happen after it was added.
 */
import type { Knex } from 'knex';
import { walSyncOf } from '../../../shared/db/index.js';
import { fail } from '../../../shared/http/errors.js';
import type { NotificationEndpointConfig } from '../../../shared/config/notifications.js';
import type { SecretBox } from './secrets.js';

/** A stored endpoint, as the dispatcher uses it. */
export interface Endpoint extends Omit<NotificationEndpointConfig, 'secret'> {
  id: number;
  /** Sealed secret (secrets.ts); null when requests are not signed. */
  sealedSecret: string | null;
  source: 'config' | 'api';
  createdBy: string;
  createdAt: Date;
}

/** What the API and CLI show: never the secret, never header values (they often hold credentials). */
export interface EndpointView {
  name: string;
  url: string;
  signed: boolean;
  headers: string[];
  timeoutMs: number;
  threshold: number;
  backoffMs: number;
  ignoredMediaTypes: string[];
  ignoredActions: string[];
  repositoryPattern: string | null;
  format: string;
  disabled: boolean;
  source: 'config' | 'api';
  createdBy: string;
  createdAt: string;
}

interface EndpointRow {
  id: number;
  name: string;
  url: string;
  secret_sealed: string | null;
  headers: string;
  timeout_ms: number;
  threshold: number;
  backoff_ms: number;
  ignored_media_types: string;
  ignored_actions: string;
  repository_pattern: string | null;
  format: string;
  disabled: boolean | number;
  source: string;
  created_by: string;
  created_at: number | string;
}

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: Number(row.id),
    name: row.name,
    url: row.url,
    sealedSecret: row.secret_sealed,
    headers: JSON.parse(row.headers) as Record<string, string[]>,
    timeoutMs: row.timeout_ms,
    threshold: row.threshold,
    backoffMs: row.backoff_ms,
    ignoredMediaTypes: JSON.parse(row.ignored_media_types) as string[],
    ignoredActions: JSON.parse(row.ignored_actions) as string[],
    repositoryPattern: row.repository_pattern,
    format: row.format as Endpoint['format'],
    disabled: Boolean(row.disabled),
    source: row.source === 'config' ? 'config' : 'api',
    createdBy: row.created_by,
    createdAt: new Date(Number(row.created_at)),
  };
}

export function viewOf(endpoint: Endpoint): EndpointView {
  const { id: _id, sealedSecret, headers, createdAt, ...rest } = endpoint;
  return { ...rest, signed: sealedSecret !== null, headers: Object.keys(headers), createdAt: createdAt.toISOString() };
}

/** Stored endpoints; `box` seals secrets on the way in. */
export class EndpointStore {
  constructor(
    readonly db: Knex,
    private readonly box: () => SecretBox,
  ) {}

  async list(exec: Knex | Knex.Transaction = this.db): Promise<Endpoint[]> {
    const rows: EndpointRow[] = await exec('notification_endpoints').select('*').orderBy('name', 'asc');
    return rows.map(toEndpoint);
  }

  async get(name: string): Promise<Endpoint | null> {
    const row: EndpointRow | undefined = await this.db('notification_endpoints').first('*').where({ name });
    return row ? toEndpoint(row) : null;
  }

  private rowOf(spec: NotificationEndpointConfig, source: 'config' | 'api', actor: string) {
    return {
      name: spec.name,
      url: spec.url,
      secret_sealed: spec.secret === null ? null : this.box().seal(spec.secret),
      headers: JSON.stringify(spec.headers),
      timeout_ms: spec.timeoutMs,
      threshold: spec.threshold,
      backoff_ms: spec.backoffMs,
      ignored_media_types: JSON.stringify(spec.ignoredMediaTypes),
      ignored_actions: JSON.stringify(spec.ignoredActions),
      repository_pattern: spec.repositoryPattern,
      format: spec.format,
      disabled: spec.disabled,
      source,
      created_by: actor,
    };
  }

  private async outboxEnd(trx: Knex.Transaction): Promise<number> {
    const row: { max?: number | string | null } | undefined = await trx('notification_outbox').max({ max: 'id' }).first();
    return Number(row?.max ?? 0);
  }

  private async write<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(fn);
    await walSyncOf(this.db)?.flush();
    return result;
  }

  /** Adds an endpoint (CONFLICT when the name is taken). */
  async add(spec: NotificationEndpointConfig, actor: string): Promise<Endpoint> {
    return this.write(async (trx) => {
      if (await trx('notification_endpoints').first('id').where({ name: spec.name })) throw fail('CONFLICT', `a notification endpoint named ${spec.name} exists`, { name: spec.name });
      await trx('notification_endpoints').insert({ ...this.rowOf(spec, 'api', actor), cursor: await this.outboxEnd(trx), lease_until: 0, created_at: Date.now() });
      await audit(trx, actor, 'notification_endpoint.add', `endpoint ${spec.name}`, {
        url: spec.url,
        repositoryPattern: spec.repositoryPattern,
        signed: spec.secret !== null,
      });
      return toEndpoint((await trx('notification_endpoints').first('*').where({ name: spec.name })) as EndpointRow);
    });
  }

  /** Removes an API endpoint with its delivery log (NOT_FOUND; CONFLICT for one from the configuration file). */
  async remove(name: string, actor: string): Promise<Endpoint> {
    return this.write(async (trx) => {
      const row: EndpointRow | undefined = await trx('notification_endpoints').first('*').where({ name });
      if (!row) throw fail('NOT_FOUND', `no notification endpoint named ${name}`, { name });
      if (row.source === 'config') throw fail('CONFLICT', `${name} comes from the configuration file; remove it there`, { name });
      await trx('notification_deliveries').where({ endpoint_id: row.id }).delete();
      await trx('notification_endpoints').where({ id: row.id }).delete();
      await audit(trx, actor, 'notification_endpoint.remove', `endpoint ${name}`, { url: row.url });
      return toEndpoint(row);
    });
  }

  /**
   * Makes the configured endpoints the `config` ones: new ones start at the outbox's end,
   * existing ones keep their place (and their undelivered events), dropped ones go. A name
   * the API already uses is an error the start reports.
   */
  async syncConfig(specs: readonly NotificationEndpointConfig[]): Promise<void> {
    await this.write(async (trx) => {
      const existing = new Map((await this.list(trx)).map((e) => [e.name, e]));
      for (const spec of specs) {
        const found = existing.get(spec.name);
        if (found?.source === 'api') throw new Error(`notification endpoint ${spec.name} in the configuration is also one added through the admin API; rename one of them`);
        const row = this.rowOf(spec, 'config', 'config');
        if (found) await trx('notification_endpoints').where({ id: found.id }).update(row);
        else await trx('notification_endpoints').insert({ ...row, cursor: await this.outboxEnd(trx), lease_until: 0, created_at: Date.now() });
      }
      const kept = new Set(specs.map((s) => s.name));
      for (const endpoint of existing.values()) {
        if (endpoint.source === 'config' && !kept.has(endpoint.name)) {
          await trx('notification_deliveries').where({ endpoint_id: endpoint.id }).delete();
          await trx('notification_endpoints').where({ id: endpoint.id }).delete();
        }
      }
    });
  }
}

/** One entry in the lifecycle audit log (`/v2/_dockyard/audit`, `rules audit`). */
export async function audit(trx: Knex | Knex.Transaction, actor: string, action: string, target: string, details: Record<string, unknown>): Promise<void> {
  await trx('lifecycle_audit').insert({ at: new Date(), actor, action, target, details: JSON.stringify(details) });
}
