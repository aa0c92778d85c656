/**
 * The lineage store's read queries, built in one place so the store runs exactly what the
 * query-plan test (test/contracts/lineage-query-plans.test.ts) EXPLAINs. Each starts from
 * an index lookup: prefix rows by (prefix_hash, is_full), annotations by base_digest,
 * recorded digests by digest, manifests by (repository_id, digest), tag history by
 * (repository_id, tag, id); joins to manifests and repositories go by primary key. The
 * ORDER BYs sort only the rows those lookups found.
 */
import type { Knex } from 'knex';
import type { Executor } from '../metadata/queries.js';
import type { ImageRef } from './store.js';

const repositoryIdOf = (db: Executor, repository: string) => db('repositories').select('id').where('name', repository);

/** The id of a manifest. */
export function manifestId(db: Executor, image: ImageRef): Knex.QueryBuilder {
  return db('manifests').first('id').where('repository_id', repositoryIdOf(db, image.repository)).andWhere('digest', image.digest);
}

/** Images whose full chain is one of `chains`, longest first. */
export function imagesWithChain(db: Executor, chains: string[]): Knex.QueryBuilder {
  return db('image_layer_prefixes as p')
    .select('r.name as repository', 'm.digest', 'p.depth')
    .join('manifests as m', 'm.id', 'p.manifest_id')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .whereIn('p.prefix_hash', chains)
    .andWhere('p.is_full', true)
    .orderBy([{ column: 'p.depth', order: 'desc' }, 'r.name', 'm.digest']);
}

/** Images with `chain` as a proper prefix, each with its layer count and the depth of its nearest base. */
export function imagesExtending(db: Executor, chain: string, limit: number): Knex.QueryBuilder {
  // The nearest base of each candidate: its longest proper prefix that is some image's full chain.
  const nearest = db('image_layer_prefixes as p2')
    .max('p2.depth')
    .whereRaw('p2.manifest_id = d.manifest_id')
    .andWhere('p2.is_full', false)
    .whereExists(db('image_layer_prefixes as f').select(db.raw('1')).whereRaw('f.prefix_hash = p2.prefix_hash').andWhere('f.is_full', true));
  return db('image_layer_prefixes as d')
    .select('r.name as repository', 'm.digest', 'whole.depth as layers', nearest.as('nearest'))
    .join('image_layer_prefixes as whole', function joinWhole() {
      this.on('whole.manifest_id', '=', 'd.manifest_id').andOn('whole.is_full', '=', db.raw('?', [true]));
    })
    .join('manifests as m', 'm.id', 'd.manifest_id')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('d.prefix_hash', chain)
    .andWhere('d.is_full', false)
    .orderBy(['r.name', 'm.digest'])
    .limit(limit);
}

/** Images whose base-digest annotation is `digest`. */
export function imagesAnnotatingBase(db: Executor, digest: string, limit: number): Knex.QueryBuilder {
  return db('image_base_annotations as a')
    .select('r.name as repository', 'm.digest')
    .join('manifests as m', 'm.id', 'a.manifest_id')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('a.base_digest', digest)
    .orderBy(['r.name', 'm.digest'])
    .limit(limit);
}

/** Recorded manifests with this digest, in any repository. */
export function manifestsWithDigest(db: Executor, digest: string): Knex.QueryBuilder {
  return db('lineage_manifests as l')
    .select('r.name as repository', 'l.digest')
    .join('manifests as m', 'm.id', 'l.manifest_id')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('l.digest', digest)
    .orderBy('r.name');
}

/** The tags of a manifest. */
export function tagsOf(db: Executor, image: ImageRef): Knex.QueryBuilder {
  return db('tags').select('name').where('repository_id', repositoryIdOf(db, image.repository)).andWhere('digest', image.digest).orderBy('name');
}

/** Index manifests of the image's repository that list it as a child. */
export function indexesContaining(db: Executor, image: ImageRef): Knex.QueryBuilder {
  return db('manifest_references as mr')
    .select('m.digest')
    .join('manifests as m', 'm.id', 'mr.manifest_id')
    .where('mr.digest', image.digest)
    .andWhere('mr.kind', 'manifest')
    .andWhere('m.repository_id', repositoryIdOf(db, image.repository))
    .orderBy('m.digest');
}

/** A tag's moves, newest first. */
export function tagMoves(db: Executor, repository: string, tag: string, limit: number): Knex.QueryBuilder {
  return db('tag_history')
    .select('old_digest', 'new_digest', 'actor', 'moved_at')
    .where('repository_id', repositoryIdOf(db, repository))
    .andWhere('tag', tag)
    .orderBy('id', 'desc')
    .limit(limit);
}

/**
 * Tags of the namespace's repositories (the namespace itself and everything under it) that
 * ever moved away from a digest, in byte order of repository then tag.
 */
export function movedTags(db: Executor, namespace: string, limit: number): Knex.QueryBuilder {
  return db('tag_history as h')
    .join('repositories as r', 'r.id', 'h.repository_id')
    .distinct('r.name as repository', 'h.tag')
    .whereNotNull('h.old_digest')
    .andWhere((q) => q.where('r.name', namespace).orWhere((range) => range.where('r.name', '>', `${namespace}/`).andWhere('r.name', '<', `${namespace}0`)))
    .orderBy([{ column: 'r.name' }, { column: 'h.tag' }])
    .limit(limit);
}
