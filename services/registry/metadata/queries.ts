/**
 * The metadata store's read queries, built in one place so the store runs exactly what the
 * query-plan test (test/contracts/metadata-query-plans.test.ts) EXPLAINs. Each one is a
 * point lookup or an ordered range on an index from migrations/registry/001_initial.ts.
 *
 * The repository is always resolved as a scalar subquery rather than a join: PostgreSQL
 * then walks the (repository_id, name) index in order for a page, with no sort step.
 */
import type { Knex } from 'knex';
import type { NameRange } from './store.js';

/** Anything knex can run a query on: the database or one of its transactions. */
export type Executor = Knex | Knex.Transaction;

/** `(SELECT id FROM repositories WHERE name = ?)`, resolved through the unique name index. */
export function repositoryIdOf(db: Executor, repository: string): Knex.QueryBuilder {
  return db('repositories').select('id').where('name', repository);
}

/** The row of a repository by name (id only). */
export function repositoryByName(db: Executor, repository: string): Knex.QueryBuilder {
  return db('repositories').first('id').where('name', repository);
}

/** One manifest of a repository, by digest. */
export function manifestByDigest(db: Executor, repository: string, digest: string): Knex.QueryBuilder {
  return db('manifests')
    .first('id', 'repository_id', 'digest', 'media_type', 'size', 'artifact_type', 'subject', 'annotations', 'created_at')
    .where('repository_id', repositoryIdOf(db, repository))
    .andWhere('digest', digest);
}

/** A manifest with its reference rows, unordered (one row with null kind when it references nothing). */
export function manifestReferences(db: Executor, repository: string, digest: string): Knex.QueryBuilder {
  return db('manifests as m')
    .select('m.id', 'mr.kind', 'mr.digest as reference')
    .leftJoin('manifest_references as mr', 'mr.manifest_id', 'm.id')
    .where('m.repository_id', repositoryIdOf(db, repository))
    .andWhere('m.digest', digest);
}

/** The digest a tag points at. */
export function tagByName(db: Executor, repository: string, tag: string): Knex.QueryBuilder {
  return db('tags').first('digest').where('repository_id', repositoryIdOf(db, repository)).andWhere('name', tag);
}

/** A blob link of a repository. */
export function blobLink(db: Executor, repository: string, digest: string): Knex.QueryBuilder {
  return db('blob_links').first('size').where('repository_id', repositoryIdOf(db, repository)).andWhere('digest', digest);
}

/** Any link of a digest, in any repository. */
export function blobAnywhere(db: Executor, digest: string): Knex.QueryBuilder {
  return db('blob_links').first('size').where('digest', digest);
}

/** One page of a repository's tags in byte order, strictly after `last`. */
export function tagPage(db: Executor, repository: string, last: string | undefined, n: number): Knex.QueryBuilder {
  const query = db('tags').select('name').where('repository_id', repositoryIdOf(db, repository));
  if (last !== undefined) query.andWhere('name', '>', last);
  return query.orderBy('name', 'asc').limit(n);
}

/**
 * One page of repository names in byte order, strictly after `last`: every repository that
 * ever held content, as CNCF distribution lists it (an emptied repository stays listed).
 * Filtering on content here would make PostgreSQL hash whole tables per page.
 */
export function repositoryPage(db: Executor, last: string | undefined, n: number): Knex.QueryBuilder {
  const query = db('repositories').select('name');
  if (last !== undefined) query.where('name', '>', last);
  return query.orderBy('name', 'asc').limit(n);
}

/** Up to `n` repository names of `range` in byte order: one ordered range walk of the name index. */
export function repositoryRange(db: Executor, range: NameRange, n: number): Knex.QueryBuilder {
  const query = db('repositories').select('name');
  if (range.start) query.where('name', range.start.inclusive ? '>=' : '>', range.start.name);
  if (range.before !== undefined) query.andWhere('name', '<', range.before);
  return query.orderBy('name', 'asc').limit(n);
}

/**
 * Which of `names` exist, strictly after `last`: one index probe per name, unordered (the
 * caller sorts; the list is bounded by the token that named the names).
 */
export function repositoriesNamed(db: Executor, names: readonly string[], last: string | undefined): Knex.QueryBuilder {
  const query = db('repositories').select('name').whereIn('name', [...names]);
  if (last !== undefined) query.andWhere('name', '>', last);
  return query;
}

/**
 * `present` is 1 when the repository has a manifest, tag or blob link. Three uncorrelated
 * EXISTS probes, each stopping at the first index entry of the repository.
 */
export function repositoryHasContent(db: Executor, repository: string): Knex.QueryBuilder {
  const anyRow = (table: string) => db(table).select(db.raw('1')).where('repository_id', repositoryIdOf(db, repository));
  const probes = [anyRow('manifests'), anyRow('tags'), anyRow('blob_links')];
  return db.first(db.raw('case when exists ? or exists ? or exists ? then 1 else 0 end as present', probes));
}

/** Manifests whose subject is `subject`, optionally of one artifact type, ordered by digest. */
export function referrers(db: Executor, repository: string, subject: string, artifactType?: string): Knex.QueryBuilder {
  const query = db('manifests')
    .select('digest', 'media_type', 'size', 'artifact_type', 'annotations')
    .where('repository_id', repositoryIdOf(db, repository))
    .andWhere('subject', subject);
  if (artifactType !== undefined) query.andWhere('artifact_type', artifactType);
  return query.orderBy('digest', 'asc');
}
