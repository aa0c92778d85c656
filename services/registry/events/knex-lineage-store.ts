/**
 * LineageStore on the registry's knex database (tables from migrations/registry/090_lineage.ts).
 * Every lookup goes through an index: prefix rows by (prefix_hash, is_full), annotations by
 * base_digest, manifests by (repository_id, digest), tag history by (repository_id, tag, id).
 */
import type { Knex } from 'knex';
import { assertName, assertTag } from '../../../shared/grammar/reference.js';
import { checkDigest, toDate } from '../metadata/rows.js';
import type { Executor } from '../metadata/queries.js';
import type { Tx } from '../metadata/store.js';
import type {
  ContainingIndex,
  ExtendingImage,
  ImageLineage,
  ImageRef,
  LayerImage,
  LineageStore,
  TagMove,
} from './store.js';

// Rows per INSERT of prefix rows: 4 parameters each, far below SQLite's limit.
const PREFIX_BATCH = 200;
const CHAIN_HASH = /^[0-9a-f]{64}$/;

function checkChain(hash: string): string {
  if (!CHAIN_HASH.test(hash)) throw new TypeError('lineage store: a chain hash is 64 lowercase hex characters');
  return hash;
}

function toCount(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Records one tag move; called by the metadata store inside the transaction that writes the tag. */
export async function recordTagMove(
  trx: Executor,
  move: { repositoryId: number; tag: string; oldDigest: string | null; newDigest: string | null; actor: string | null },
): Promise<void> {
  if (move.oldDigest === move.newDigest) return;
  await trx('tag_history').insert({
    repository_id: move.repositoryId,
    tag: move.tag,
    old_digest: move.oldDigest,
    new_digest: move.newDigest,
    actor: move.actor === null || move.actor === '' ? null : move.actor.slice(0, 255),
    moved_at: new Date(),
  });
}

export class KnexLineageStore implements LineageStore {
  /** `exec` maps an optional transaction to what queries run on (the metadata store's rule). */
  constructor(private readonly exec: (tx?: Tx) => Executor) {}

  private manifestId(db: Executor, image: ImageRef): Knex.QueryBuilder {
    return db('manifests')
      .first('id')
      .where('repository_id', db('repositories').select('id').where('name', image.repository))
      .andWhere('digest', image.digest);
  }

  async record(repository: string, digest: string, lineage: ImageLineage, tx?: Tx): Promise<void> {
    assertName(repository);
    checkDigest(digest);
    lineage.prefixes.forEach(checkChain);
    if (lineage.baseDigest !== null) checkDigest(lineage.baseDigest);
    const db = this.exec(tx);
    const row: { id: number } | undefined = await this.manifestId(db, { repository, digest });
    if (!row) throw new Error(`lineage store: manifest ${digest} is not in ${repository}`);
    await db('lineage_manifests').insert({ manifest_id: row.id, digest }).onConflict('manifest_id').ignore();
    const rows = lineage.prefixes.map((hash, i) => ({
      manifest_id: row.id,
      depth: i + 1,
      prefix_hash: hash,
      is_full: i === lineage.prefixes.length - 1,
    }));
    for (let start = 0; start < rows.length; start += PREFIX_BATCH) {
      await db('image_layer_prefixes').insert(rows.slice(start, start + PREFIX_BATCH)).onConflict(['manifest_id', 'depth']).ignore();
    }
    if (lineage.baseName !== null || lineage.baseDigest !== null) {
      await db('image_base_annotations')
        .insert({ manifest_id: row.id, base_name: lineage.baseName?.slice(0, 1024) ?? null, base_digest: lineage.baseDigest })
        .onConflict('manifest_id')
        .ignore();
    }
  }

  async get(repository: string, digest: string, tx?: Tx): Promise<ImageLineage | null> {
    assertName(repository);
    checkDigest(digest);
    const db = this.exec(tx);
    const row: { id: number } | undefined = await this.manifestId(db, { repository, digest });
    if (!row) return null;
    const prefixes: Array<{ prefix_hash: string }> = await db('image_layer_prefixes')
      .select('prefix_hash')
      .where('manifest_id', row.id)
      .orderBy('depth', 'asc');
    const base: { base_name: string | null; base_digest: string | null } | undefined = await db('image_base_annotations')
      .first('base_name', 'base_digest')
      .where('manifest_id', row.id);
    if (prefixes.length === 0 && !base) return null;
    return { prefixes: prefixes.map((p) => p.prefix_hash), baseName: base?.base_name ?? null, baseDigest: base?.base_digest ?? null };
  }

  async imagesWithChain(chains: string[], tx?: Tx): Promise<LayerImage[]> {
    chains.forEach(checkChain);
    if (chains.length === 0) return [];
    const rows: Array<{ repository: string; digest: string; depth: number | string }> = await this.exec(tx)('image_layer_prefixes as p')
      .select('r.name as repository', 'm.digest', 'p.depth')
      .join('manifests as m', 'm.id', 'p.manifest_id')
      .join('repositories as r', 'r.id', 'm.repository_id')
      .whereIn('p.prefix_hash', chains)
      .andWhere('p.is_full', true)
      .orderBy([{ column: 'p.depth', order: 'desc' }, 'r.name', 'm.digest']);
    return rows.map((r) => ({ repository: r.repository, digest: r.digest, layers: toCount(r.depth) }));
  }

  async imagesExtending(chain: string, limit: number, tx?: Tx): Promise<ExtendingImage[]> {
    checkChain(chain);
    const db = this.exec(tx);
    // The nearest base of each candidate: its longest proper prefix that is some image's full chain.
    const nearest = db('image_layer_prefixes as p2')
      .max('p2.depth')
      .whereRaw('p2.manifest_id = d.manifest_id')
      .andWhere('p2.is_full', false)
      .whereExists(db('image_layer_prefixes as f').select(db.raw('1')).whereRaw('f.prefix_hash = p2.prefix_hash').andWhere('f.is_full', true));
    const rows: Array<{ repository: string; digest: string; layers: number | string; nearest: number | string | null }> = await db(
      'image_layer_prefixes as d',
    )
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
    return rows.map((r) => ({
      repository: r.repository,
      digest: r.digest,
      layers: toCount(r.layers),
      nearestBase: r.nearest === null ? 0 : toCount(r.nearest),
    }));
  }

  async imagesAnnotatingBase(digest: string, limit: number, tx?: Tx): Promise<ImageRef[]> {
    checkDigest(digest);
    return this.exec(tx)('image_base_annotations as a')
      .select('r.name as repository', 'm.digest')
      .join('manifests as m', 'm.id', 'a.manifest_id')
      .join('repositories as r', 'r.id', 'm.repository_id')
      .where('a.base_digest', digest)
      .orderBy(['r.name', 'm.digest'])
      .limit(limit);
  }

  async manifestsWithDigest(digest: string, tx?: Tx): Promise<ImageRef[]> {
    checkDigest(digest);
    return this.exec(tx)('lineage_manifests as l')
      .select('r.name as repository', 'l.digest')
      .join('manifests as m', 'm.id', 'l.manifest_id')
      .join('repositories as r', 'r.id', 'm.repository_id')
      .where('l.digest', digest)
      .orderBy('r.name');
  }

  async tagsOf(image: ImageRef, tx?: Tx): Promise<string[]> {
    const db = this.exec(tx);
    const rows: Array<{ name: string }> = await db('tags')
      .select('name')
      .where('repository_id', db('repositories').select('id').where('name', image.repository))
      .andWhere('digest', image.digest)
      .orderBy('name');
    return rows.map((r) => r.name);
  }

  async indexesContaining(image: ImageRef, tx?: Tx): Promise<ContainingIndex[]> {
    const db = this.exec(tx);
    const rows: Array<{ digest: string }> = await db('manifest_references as mr')
      .select('m.digest')
      .join('manifests as m', 'm.id', 'mr.manifest_id')
      .where('mr.digest', image.digest)
      .andWhere('mr.kind', 'manifest')
      .andWhere('m.repository_id', db('repositories').select('id').where('name', image.repository))
      .orderBy('m.digest');
    const indexes: ContainingIndex[] = [];
    for (const row of rows) indexes.push({ digest: row.digest, tags: await this.tagsOf({ repository: image.repository, digest: row.digest }, tx) });
    return indexes;
  }

  async tagHistory(repository: string, tag: string, limit: number, tx?: Tx): Promise<TagMove[]> {
    assertName(repository);
    assertTag(tag);
    const db = this.exec(tx);
    const rows: Array<{ old_digest: string | null; new_digest: string | null; actor: string | null; moved_at: Date | number | string }> = await db(
      'tag_history',
    )
      .select('old_digest', 'new_digest', 'actor', 'moved_at')
      .where('repository_id', db('repositories').select('id').where('name', repository))
      .andWhere('tag', tag)
      .orderBy('id', 'desc')
      .limit(limit);
    return rows.map((r) => ({ repository, tag, oldDigest: r.old_digest, newDigest: r.new_digest, actor: r.actor, movedAt: toDate(r.moved_at) }));
  }
}
