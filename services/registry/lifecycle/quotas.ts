/**
 * Storage quotas per namespace (the first component of a repository name) and the usage
 * they are measured against. Usage counts each digest once per namespace (or repository),
 * however many images share it: the blobs linked into its repositories and the manifests
 * stored in them. It is computed from the metadata tables when asked, not kept in a
 * counter, so pushes, deletes and garbage collection can never make it drift; the check
 * at push time runs under the namespace's lock, so concurrent pushes cannot both slip
 * under the limit. A push that would go over the hard limit is refused (DENIED, naming the
 * namespace, its usage and its limit); going over the soft limit logs a warning and counts
 * in `registry_quota_soft_exceeded_total`.
 */
import type { Knex } from 'knex';
import { Counter, type Registry } from 'prom-client';
import { walSyncOf } from '../../../shared/db/index.js';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import type { Logger } from '../../../shared/observability/logger.js';
import { toNumber } from '../metadata/rows.js';
import type { GcStore } from './gc-store.js';

type Executor = Knex | Knex.Transaction;

/** A namespace's limits in bytes (null: none). */
export interface Quota {
  namespace: string;
  hardBytes: number | null;
  softBytes: number | null;
}

/** The namespace of a repository: its first path component. */
export function namespaceOf(repository: string): string {
  return repository.split('/')[0]!;
}

/** Repositories of a namespace: the name itself or anything below `name/` (byte order: `/` + 1 is `0`). */
function inNamespace(query: Knex.QueryBuilder, column: string, namespace: string): Knex.QueryBuilder {
  return query.where((q) => q.where(column, namespace).orWhere((q2) => q2.where(column, '>=', `${namespace}/`).andWhere(column, '<', `${namespace}0`)));
}

/** Bytes of the distinct digests linked into, or stored as manifests in, the repositories `scope` selects. */
async function distinctBytes(db: Executor, scope: (query: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<number> {
  const links = scope(db('blob_links as l').join('repositories as r', 'r.id', 'l.repository_id').select('l.digest', 'l.size'));
  const manifests = scope(db('manifests as m').join('repositories as r', 'r.id', 'm.repository_id').select('m.digest', 'm.size'));
  const row: { total: number | string | null } | undefined = await db
    .from(db.union([links, manifests]).as('content'))
    .first(db.raw('sum(size) as total'));
  return toNumber(row?.total ?? 0);
}

/** Usage of a namespace in bytes. */
export function namespaceUsage(db: Executor, namespace: string): Promise<number> {
  return distinctBytes(db, (query) => inNamespace(query, 'r.name', namespace));
}

/** Usage of one repository in bytes. */
export function repositoryUsage(db: Executor, repository: string): Promise<number> {
  return distinctBytes(db, (query) => query.where('r.name', repository));
}

/** True when the namespace already holds the digest (adding it again costs nothing). */
async function holds(db: Executor, namespace: string, digest: string): Promise<boolean> {
  for (const table of ['blob_links', 'manifests']) {
    const row = await inNamespace(db(`${table} as t`).join('repositories as r', 'r.id', 't.repository_id').first('t.digest').where('t.digest', digest), 'r.name', namespace);
    if (row) return true;
  }
  return false;
}

/** Quota settings in the registry database. */
export class QuotaStore {
  constructor(readonly db: Knex) {}

  /** The namespace's quota, or null when it has none. */
  async get(namespace: string, db: Executor = this.db): Promise<Quota | null> {
    const row: { namespace: string; hard_bytes: number | string | null; soft_bytes: number | string | null } | undefined = await db('namespace_quotas')
      .first('*')
      .where('namespace', namespace);
    return row ? { namespace: row.namespace, hardBytes: row.hard_bytes === null ? null : toNumber(row.hard_bytes), softBytes: row.soft_bytes === null ? null : toNumber(row.soft_bytes) } : null;
  }

  /** Every quota, by namespace. */
  async list(): Promise<Quota[]> {
    const rows: Array<{ namespace: string }> = await this.db('namespace_quotas').select('namespace').orderBy('namespace');
    const quotas: Quota[] = [];
    for (const { namespace } of rows) quotas.push((await this.get(namespace))!);
    return quotas;
  }

  /** Sets (or, with both limits null, removes) a namespace's limits, and audits the change. */
  async set(quota: Quota, actor: string): Promise<void> {
    if (!/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/.test(quota.namespace)) throw fail('NAME_INVALID', `${JSON.stringify(quota.namespace)} is not a namespace (the first component of a repository name)`);
    await this.db.transaction(async (trx) => {
      await trx('namespace_quotas').where('namespace', quota.namespace).del();
      if (quota.hardBytes !== null || quota.softBytes !== null) {
        await trx('namespace_quotas').insert({ namespace: quota.namespace, hard_bytes: quota.hardBytes, soft_bytes: quota.softBytes, updated_by: actor, updated_at: new Date() });
      }
      await trx('lifecycle_audit').insert({ at: new Date(), actor, action: 'quota.set', target: `namespace ${quota.namespace}`, details: JSON.stringify(quota) });
    });
    await walSyncOf(this.db)?.flush();
  }
}

/** Every quota with its namespace's usage (`quotas list` and `GET /v2/_dockyard/quotas`). */
export async function quotasWithUsage(store: QuotaStore): Promise<Array<Quota & { usageBytes: number }>> {
  const rows = [];
  for (const quota of await store.list()) rows.push({ ...quota, usageBytes: await namespaceUsage(store.db, quota.namespace) });
  return rows;
}

/** The refusal of a push over the hard limit. */
function overQuota(namespace: string, usage: number, adding: number, limit: number): DockyardError {
  return new DockyardError(
    'DENIED',
    `quota exceeded for namespace ${namespace}: it uses ${usage} bytes, this push adds ${adding}, the hard limit is ${limit} bytes`,
    { detail: { namespace, usage, adding, limit } },
  );
}

/** Checks pushes against the quotas, inside their transactions. */
export class QuotaGuard {
  private readonly softExceeded: Counter<'namespace'> | undefined;

  constructor(
    private readonly quotas: QuotaStore,
    private readonly locks: GcStore,
    private readonly logger: Logger,
    metrics?: Registry,
  ) {
    this.softExceeded = metrics
      ? ((metrics.getSingleMetric('registry_quota_soft_exceeded_total') as Counter<'namespace'> | undefined) ??
        new Counter({ name: 'registry_quota_soft_exceeded_total', help: 'Pushes that took a namespace over its soft quota.', labelNames: ['namespace'], registers: [metrics] }))
      : undefined;
  }

  /**
   * DENIED when adding `digest` (`size` bytes) to `repository` would take its namespace over
   * the hard limit; a warning when over the soft limit. Nothing when the namespace has no
   * quota or already holds the digest.
   */
  async checkAdd(trx: Knex.Transaction, repository: string, digest: string, size: number): Promise<void> {
    const namespace = namespaceOf(repository);
    const quota = await this.quotas.get(namespace, trx);
    if (!quota) return;
    await this.locks.lockDigests(trx, [`quota:${namespace}`]);
    if (await holds(trx, namespace, digest)) return;
    const usage = await namespaceUsage(trx, namespace);
    if (quota.hardBytes !== null && usage + size > quota.hardBytes) throw overQuota(namespace, usage, size, quota.hardBytes);
    this.warnIfSoftExceeded(quota, namespace, usage + size);
  }

  /**
   * The early refusal, before any bytes are stored, for an upload whose size is known up
   * front (a monolithic POST). Unlocked: the binding check is checkAdd when the blob links.
   */
  async precheck(repository: string, digest: string, size: number): Promise<void> {
    const namespace = namespaceOf(repository);
    const quota = await this.quotas.get(namespace);
    if (quota?.hardBytes == null || (await holds(this.quotas.db, namespace, digest))) return;
    const usage = await namespaceUsage(this.quotas.db, namespace);
    if (usage + size > quota.hardBytes) throw overQuota(namespace, usage, size, quota.hardBytes);
  }

  private warnIfSoftExceeded(quota: Quota, namespace: string, usage: number): void {
    if (quota.softBytes !== null && usage > quota.softBytes) {
      this.logger.warn({ namespace, usage, softLimit: quota.softBytes }, 'namespace over its soft quota');
      this.softExceeded?.inc({ namespace });
    }
  }
}
