/**
 * The browse API's own reads and writes (routes.ts): repository READMEs, and one page of a
 * repository's tags with what the UI's tag table shows (push date, manifest media type,
 * content size). Every query is a primary-key lookup or a range on an existing index: the
 * tag page walks tags_repository_name_unique like `/v2/<name>/tags/list`, and sizes are
 * summed for that page's manifests only.
 */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { repositoryIdOf, type Executor } from '../metadata/queries.js';
import { toDate } from '../metadata/rows.js';

/** The largest README accepted, in bytes of UTF-8. */
export const README_MAX_BYTES = 64 * 1024;

export interface Readme {
  content: string;
  updatedBy: string | null;
  updatedAt: Date;
}

/** A tag as the tag table lists it. */
export interface TagSummary {
  name: string;
  digest: string;
  pushedAt: Date;
  mediaType: string;
  artifactType: string | null;
  /** Bytes of the config and layers (for an index, of every child's, each digest once). */
  contentBytes: number;
}

interface TagRow {
  name: string;
  digest: string;
  updated_at: Date | number | string;
  media_type: string;
  artifact_type: string | null;
}

/** One page of tags joined to their manifests, in name order (the query-plan test EXPLAINs it). */
export function tagPageQuery(db: Executor, repository: string, last: string | undefined, n: number): Knex.QueryBuilder {
  const query = db('tags as t')
    .select('t.name', 't.digest', 't.updated_at', 'm.media_type', 'm.artifact_type')
    .join('manifests as m', function joinManifest() {
      this.on('m.repository_id', 't.repository_id').andOn('m.digest', 't.digest');
    })
    .where('t.repository_id', repositoryIdOf(db, repository));
  if (last !== undefined) query.andWhere('t.name', '>', last);
  return query.orderBy('t.name').limit(n);
}

/** A position in the push-date order: the tag `name` pushed at `pushedAt` (the page goes on after it). */
export interface PushedPosition {
  pushedAt: Date;
  name: string;
}

/**
 * One page of tags newest push first (ties: name descending), after `after`: a backward
 * walk of tags_repository_pushed_index (migration 130) from a row-value position.
 */
export function tagPageByPushedQuery(db: Executor, repository: string, after: PushedPosition | undefined, n: number): Knex.QueryBuilder {
  const query = db('tags as t').select('t.name', 't.digest', 't.updated_at', 'm.media_type', 'm.artifact_type');
  // SQLite's planner would otherwise start from manifests and sort; its CROSS JOIN keeps the tag index walk outermost.
  if (/sqlite/.test(String((db.client as { config?: { client?: unknown } }).config?.client ?? ''))) {
    query.joinRaw('CROSS JOIN manifests AS m ON m.repository_id = t.repository_id AND m.digest = t.digest');
  } else {
    query.join('manifests as m', function joinManifest() {
      this.on('m.repository_id', 't.repository_id').andOn('m.digest', 't.digest');
    });
  }
  query.where('t.repository_id', repositoryIdOf(db, repository));
  if (after !== undefined) query.andWhereRaw('(t.updated_at, t.name) < (?, ?)', [after.pushedAt, after.name]);
  return query.orderBy([{ column: 't.updated_at', order: 'desc' }, { column: 't.name', order: 'desc' }]).limit(n);
}

/** Reads and writes of the browse API on the registry's database. */
export class BrowseStore {
  constructor(private readonly db: Knex) {}

  async readme(repository: string, tx?: Executor): Promise<Readme | null> {
    const db = tx ?? this.db;
    const row = (await db('repository_readmes').first('content', 'updated_by', 'updated_at').where('repository_id', repositoryIdOf(db, repository))) as
      | { content: string; updated_by: string | null; updated_at: Date | number | string }
      | undefined;
    return row ? { content: row.content, updatedBy: row.updated_by, updatedAt: toDate(row.updated_at) } : null;
  }

  /** Sets (an empty text removes) the README; NAME_UNKNOWN when the repository does not exist. */
  async setReadme(repository: string, content: string, actor: string | null, tx?: Executor): Promise<void> {
    const db = tx ?? this.db;
    const repo = (await db('repositories').first('id').where('name', repository)) as { id: number } | undefined;
    if (!repo) throw fail('NAME_UNKNOWN', 'repository name not known to registry', { name: repository });
    if (content === '') {
      await db('repository_readmes').where('repository_id', repo.id).delete();
      return;
    }
    await db('repository_readmes')
      .insert({ repository_id: repo.id, content, updated_by: actor, updated_at: new Date() })
      .onConflict('repository_id')
      .merge(['content', 'updated_by', 'updated_at']);
  }

  /** Up to `n` tags after `last` in byte order, each with its manifest's facts and content size. */
  async tagPage(repository: string, last: string | undefined, n: number): Promise<TagSummary[]> {
    return this.summaries(repository, (await tagPageQuery(this.db, repository, last, n)) as TagRow[]);
  }

  /** Up to `n` tags, newest push first, after `after`, each with its manifest's facts and content size. */
  async tagPageByPushed(repository: string, after: PushedPosition | undefined, n: number): Promise<TagSummary[]> {
    return this.summaries(repository, (await tagPageByPushedQuery(this.db, repository, after, n)) as TagRow[]);
  }

  private async summaries(repository: string, rows: TagRow[]): Promise<TagSummary[]> {
    const sizes = await this.contentSizes(repository, [...new Set(rows.map((r) => r.digest))]);
    return rows.map((r) => ({
      name: r.name,
      digest: r.digest,
      pushedAt: toDate(r.updated_at),
      mediaType: r.media_type,
      artifactType: r.artifact_type,
      contentBytes: sizes.get(r.digest) ?? 0,
    }));
  }

  /**
   * Per manifest digest, the bytes of the distinct blobs it references directly or through
   * its child manifests (a layer shared by two platforms counts once).
   */
  private async contentSizes(repository: string, digests: string[]): Promise<Map<string, number>> {
    if (digests.length === 0) return new Map();
    const marks = digests.map(() => '?').join(', ');
    const repo = '(SELECT id FROM repositories WHERE name = ?)';
    const sql = `
      SELECT x.root AS root, SUM(bl.size) AS total FROM (
        SELECT m.digest AS root, mr.digest AS blob FROM manifests m
          JOIN manifest_references mr ON mr.manifest_id = m.id AND mr.kind = 'blob'
          WHERE m.repository_id = ${repo} AND m.digest IN (${marks})
        UNION
        SELECT m.digest AS root, cr.digest AS blob FROM manifests m
          JOIN manifest_references mr ON mr.manifest_id = m.id AND mr.kind = 'manifest'
          JOIN manifests c ON c.repository_id = m.repository_id AND c.digest = mr.digest
          JOIN manifest_references cr ON cr.manifest_id = c.id AND cr.kind = 'blob'
          WHERE m.repository_id = ${repo} AND m.digest IN (${marks})
      ) x JOIN blob_links bl ON bl.repository_id = ${repo} AND bl.digest = x.blob
      GROUP BY x.root`;
    const result = (await this.db.raw(sql, [repository, ...digests, repository, ...digests, repository])) as unknown;
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ root: string; total: number | string }>;
    return new Map(rows.map((r) => [r.root, Number(r.total)]));
  }
}
