/**
 * LineageStore on the registry's knex database (tables from migrations/registry/090_lineage.ts):
 * the writes here, the reads built in lineage-queries.ts.
 */
import { assertName, assertTag } from '../../../shared/grammar/reference.js';
import { checkDigest, toDate } from '../metadata/rows.js';
import type { Executor } from '../metadata/queries.js';
import * as lq from './lineage-queries.js';
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

  async record(repository: string, digest: string, lineage: ImageLineage, tx?: Tx): Promise<void> {
    assertName(repository);
    checkDigest(digest);
    lineage.prefixes.forEach(checkChain);
    if (lineage.baseDigest !== null) checkDigest(lineage.baseDigest);
    const db = this.exec(tx);
    const row: { id: number } | undefined = await lq.manifestId(db, { repository, digest });
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
    const row: { id: number } | undefined = await lq.manifestId(db, { repository, digest });
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
    const rows: Array<{ repository: string; digest: string; depth: number | string }> = await lq.imagesWithChain(this.exec(tx), chains);
    return rows.map((r) => ({ repository: r.repository, digest: r.digest, layers: toCount(r.depth) }));
  }

  async imagesExtending(chain: string, limit: number, tx?: Tx): Promise<ExtendingImage[]> {
    checkChain(chain);
    const rows: Array<{ repository: string; digest: string; layers: number | string; nearest: number | string | null }> = await lq.imagesExtending(
      this.exec(tx),
      chain,
      limit,
    );
    return rows.map((r) => ({
      repository: r.repository,
      digest: r.digest,
      layers: toCount(r.layers),
      nearestBase: r.nearest === null ? 0 : toCount(r.nearest),
    }));
  }

  async imagesAnnotatingBase(digest: string, limit: number, tx?: Tx): Promise<ImageRef[]> {
    checkDigest(digest);
    return lq.imagesAnnotatingBase(this.exec(tx), digest, limit);
  }

  async manifestsWithDigest(digest: string, tx?: Tx): Promise<ImageRef[]> {
    checkDigest(digest);
    return lq.manifestsWithDigest(this.exec(tx), digest);
  }

  async tagsOf(image: ImageRef, tx?: Tx): Promise<string[]> {
    const rows: Array<{ name: string }> = await lq.tagsOf(this.exec(tx), image);
    return rows.map((r) => r.name);
  }

  async indexesContaining(image: ImageRef, tx?: Tx): Promise<ContainingIndex[]> {
    const rows: Array<{ digest: string }> = await lq.indexesContaining(this.exec(tx), image);
    const indexes: ContainingIndex[] = [];
    for (const row of rows) indexes.push({ digest: row.digest, tags: await this.tagsOf({ repository: image.repository, digest: row.digest }, tx) });
    return indexes;
  }

  async movedTags(namespace: string, limit: number, tx?: Tx): Promise<Array<{ repository: string; tag: string }>> {
    assertName(namespace);
    return lq.movedTags(this.exec(tx), namespace, limit);
  }

  async tagHistory(repository: string, tag: string, limit: number, tx?: Tx): Promise<TagMove[]> {
    assertName(repository);
    assertTag(tag);
    const rows: Array<{ old_digest: string | null; new_digest: string | null; actor: string | null; moved_at: Date | number | string }> = await lq.tagMoves(
      this.exec(tx),
      repository,
      tag,
      limit,
    );
    return rows.map((r) => ({ repository, tag, oldDigest: r.old_digest, newDigest: r.new_digest, actor: r.actor, movedAt: toDate(r.moved_at) }));
  }
}
