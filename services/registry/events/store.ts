/**
 * What the lineage feature needs from the metadata index: the per-image layer-prefix rows
 * written at push time, the lookups over them, and the tag history written by every tag
 * move. Implemented on knex by KnexLineageStore; reached as `MetadataStore.lineage`, and
 * every method takes an optional transaction from `MetadataStore.transaction()`.
 */
import type { Tx } from '../metadata/store.js';

/** What a push records about one image manifest. */
export interface ImageLineage {
  /** Hash of layers[0..i] for i = 0 … n-1 (see prefixHashes); the last one is the image's chain. */
  prefixes: string[];
  /** `org.opencontainers.image.base.name`, when the manifest carries it. */
  baseName: string | null;
  /** `org.opencontainers.image.base.digest`, when the manifest carries it. */
  baseDigest: string | null;
}

/** One manifest, anywhere in the registry. */
export interface ImageRef {
  repository: string;
  digest: string;
}

/** An image found through its layer chain. */
export interface LayerImage extends ImageRef {
  layers: number;
}

/** An image that has a given chain as a proper prefix of its own layers. */
export interface ExtendingImage extends LayerImage {
  /** Layer count of its nearest base (the longest proper prefix that is some image's chain). */
  nearestBase: number;
}

/** One tag move: a create (old null), a move, or a removal (new null). */
export interface TagMove {
  repository: string;
  tag: string;
  oldDigest: string | null;
  newDigest: string | null;
  /** Who moved it, when the request was authenticated. */
  actor: string | null;
  movedAt: Date;
}

/** An index manifest containing an image, with the tags that name the index. */
export interface ContainingIndex {
  digest: string;
  tags: string[];
}

export interface LineageStore {
  /** Stores the manifest's prefix rows and base annotations (idempotent for the same manifest); an index records no prefixes. */
  record(repository: string, digest: string, lineage: ImageLineage, tx?: Tx): Promise<void>;
  /** The stored lineage of a manifest, or null (not an image manifest, or not stored). */
  get(repository: string, digest: string, tx?: Tx): Promise<ImageLineage | null>;
  /** Images whose full chain is one of `chains`, by repository and digest. */
  imagesWithChain(chains: string[], tx?: Tx): Promise<LayerImage[]>;
  /** Images that have `chain` as a proper prefix (at most `limit`), by repository and digest. */
  imagesExtending(chain: string, limit: number, tx?: Tx): Promise<ExtendingImage[]>;
  /** Images whose base-digest annotation is `digest` (at most `limit`). */
  imagesAnnotatingBase(digest: string, limit: number, tx?: Tx): Promise<ImageRef[]>;
  /** Every manifest recorded with this digest, in any repository. */
  manifestsWithDigest(digest: string, tx?: Tx): Promise<ImageRef[]>;
  /** Tags of the manifest, in byte order. */
  tagsOf(image: ImageRef, tx?: Tx): Promise<string[]>;
  /** Index manifests of the same repository that list the image as a child. */
  indexesContaining(image: ImageRef, tx?: Tx): Promise<ContainingIndex[]>;
  /** Tags of the namespace (the repository of that name and those under it) that moved away from a digest at least once (at most `limit`). */
  movedTags(namespace: string, limit: number, tx?: Tx): Promise<Array<{ repository: string; tag: string }>>;
  /** The tag's moves, newest first (at most `limit`). */
  tagHistory(repository: string, tag: string, limit: number, tx?: Tx): Promise<TagMove[]>;
}
