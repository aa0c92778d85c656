/**
 * MetadataStore: the registry's index of repositories, manifests, tags, blob links and
 * referrers. It never holds blob bytes (those are in the StorageDriver, by digest).
 * Every method takes an optional transaction from `transaction()`. One contract suite
 * (test/contracts/metadata-store.contract.ts) runs against SQLite and PostgreSQL.
 */

import type { LineageStore } from '../events/store.js';

/** Opaque transaction handle; only the store that made it understands it. */
export type Tx = unknown;

/** A descriptor as it appears in a referrers index. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  /** Digest of the `subject` manifest, when the manifest has one. */
  subject: string | null;
  annotations: Record<string, string> | null;
  createdAt: Date;
}

/** What putManifest records: the manifest plus everything it references. */
export interface NewManifest {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  /** Digests of blobs (config, layers) the manifest references. */
  blobs: string[];
  /** Digests of child manifests (for an index / manifest list). */
  manifests: string[];
}

/** What a stored manifest references, as recorded by putManifest. */
export interface ManifestReferences {
  /** Blob digests (config, layers). */
  blobs: string[];
  /** Child manifest digests (entries of an index / manifest list). */
  manifests: string[];
}

/** Pagination for tag and catalog listings, in lexical order. */
export interface Page {
  /** Return entries strictly after this one. */
  last?: string;
  /** At most this many entries (the caller caps it). */
  n: number;
}

/** A stretch of repository names: from `start` (inclusive or not) up to, not including, `before`. */
export interface NameRange {
  start?: { name: string; inclusive: boolean };
  before?: string;
}

export interface MetadataStore {
  /**
   * Runs fn in one transaction; commits when it resolves, rolls back when it throws. Resolves
   * once the commit is durable (and with it every commit it could read).
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  /** True when the repository has at least one manifest, tag or blob link. */
  repositoryExists(name: string, tx?: Tx): Promise<boolean>;
  /** Names of every repository that ever held content, in byte order (an emptied one stays listed, as in distribution). */
  listRepositories(page: Page, tx?: Tx): Promise<string[]>;

  /**
   * Up to `n` repository names in `range`, in byte order (a walk of the name index; the
   * catalog's pattern scans are built from these, see catalog/visible.ts).
   */
  listRepositoryRange(range: NameRange, n: number, tx?: Tx): Promise<string[]>;
  /** Which of `names` are repositories, strictly after `last`, in byte order. */
  listRepositoriesNamed(names: readonly string[], last: string | undefined, tx?: Tx): Promise<string[]>;

  /** Makes the blob visible in the repository (idempotent). */
  linkBlob(repository: string, digest: string, size: number, tx?: Tx): Promise<void>;
  /** Size of the blob if it is linked into the repository, else null. */
  getBlobLink(repository: string, digest: string, tx?: Tx): Promise<{ size: number } | null>;
  /** Removes the link; false if it was not there. */
  unlinkBlob(repository: string, digest: string, tx?: Tx): Promise<boolean>;
  /** Size of the blob if any repository links it (for cross-repo mount without from). */
  findBlob(digest: string, tx?: Tx): Promise<{ size: number } | null>;

  /** Records a manifest and its references (idempotent for the same digest). */
  putManifest(repository: string, manifest: NewManifest, tx?: Tx): Promise<void>;
  getManifest(repository: string, digest: string, tx?: Tx): Promise<ManifestRecord | null>;
  /**
   * The distinct digests a manifest references, each list in byte order (for GC and for
   * delete checks); null when the manifest is not in the repository.
   */
  getManifestReferences(repository: string, digest: string, tx?: Tx): Promise<ManifestReferences | null>;
  /** Deletes the manifest, its lineage and every tag pointing at it (each removal goes to the tag history); false if it was not there. */
  deleteManifest(repository: string, digest: string, tx?: Tx, actor?: string): Promise<boolean>;

  /** Points tag at digest (the manifest must exist in the repository); a move is recorded in the tag history, with `actor` when known. */
  putTag(repository: string, tag: string, digest: string, tx?: Tx, actor?: string): Promise<void>;
  /** Digest the tag points at, or null. */
  resolveTag(repository: string, tag: string, tx?: Tx): Promise<string | null>;
  /** Removes the tag (recorded in the tag history); false if it was not there. */
  deleteTag(repository: string, tag: string, tx?: Tx, actor?: string): Promise<boolean>;
  /** Tags in lexical order. */
  listTags(repository: string, page: Page, tx?: Tx): Promise<string[]>;

  /** Manifests in the repository whose subject is `subject`, optionally of one artifactType. */
  listReferrers(repository: string, subject: string, artifactType?: string, tx?: Tx): Promise<ReferrerDescriptor[]>;

  /** Image lineage and tag history, in the same database and transactions. */
  readonly lineage: LineageStore;

  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
