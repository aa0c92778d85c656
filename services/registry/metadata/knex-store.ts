/**
 * MetadataStore on knex: SQLite for the embedded default, PostgreSQL for scale-out, the
 * same queries on both (see queries.ts). Writes that race with an identical write (two
 * clients pushing the same layer, manifest or tag) use INSERT … ON CONFLICT, so the loser
 * neither fails nor duplicates a row. Repositories are created on first write.
 */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { openDatabase, migrateLatest, walSyncOf, type DatabaseConfig } from '../../../shared/db/index.js';
import { SqliteReads } from '../../../shared/db/sqlite-reads.js';
import type { WalSync } from '../../../shared/db/wal-sync.js';
import { KnexLineageStore, recordTagMove } from '../events/knex-lineage-store.js';
import type { LineageStore } from '../events/store.js';
import { assertName, assertTag, compareNames, isValidName } from '../../../shared/grammar/reference.js';
import { preparedReads } from './prepared-reads.js';
import * as q from './queries.js';
import {
  checkDigest,
  checkNewManifest,
  checkPage,
  checkSize,
  isStorableMediaType,
  referenceRows,
  serializeAnnotations,
  toManifestRecord,
  toNumber,
  toReferrer,
  type ManifestRow,
} from './rows.js';
import type {
  ManifestRecord,
  ManifestReferences,
  MetadataStore,
  NameRange,
  NewManifest,
  Page,
  ReferrerDescriptor,
  Tx,
} from './store.js';

// Rows per INSERT for manifest references: 3 parameters each, far below SQLite's limit.
const REFERENCE_BATCH = 300;
// Names per `IN (…)` probe of listRepositoriesNamed.
const NAMED_BATCH = 500;

/** A foreign-key violation on either dialect (the row a new row points at is gone). */
function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

function asTransaction(tx: Tx): Knex.Transaction {
  if (typeof tx !== 'function' || (tx as { isTransaction?: unknown }).isTransaction !== true) {
    throw new TypeError('metadata store: tx is not a transaction from KnexMetadataStore.transaction()');
  }
  return tx as Knex.Transaction;
}

/** The registry's metadata in SQL tables (migrations/registry). */
export class KnexMetadataStore implements MetadataStore {
  /** Prepared statements for reads outside a transaction; null on PostgreSQL and in-memory SQLite. */
  private readonly fast: ReturnType<typeof preparedReads> | null;
  /** Set when commits do not sync themselves: every write awaits it before returning. */
  private readonly walSync: WalSync | null;
  /** Image lineage and tag history (services/registry/events). */
  readonly lineage: LineageStore;

  /** Wraps an open, migrated database; `close()` destroys it. `db` is shared with the lifecycle queries (services/registry/lifecycle). */
  constructor(readonly db: Knex) {
    const reads = SqliteReads.forKnex(db);
    this.fast = reads ? preparedReads(reads) : null;
    this.walSync = walSyncOf(db);
    this.lineage = new KnexLineageStore((tx) => this.exec(tx));
  }

  /**
   * Opens the database of `config`, runs the registry migrations and returns the store.
   * On SQLite, commits sync off the event loop (shared/db/wal-sync.ts): a push's metadata
   * write then costs no fsync on the main thread, and concurrent pushes share one.
   */
  static async open(config: DatabaseConfig): Promise<KnexMetadataStore> {
    const db = openDatabase(config, { commitSync: 'deferred' });
    try {
      await migrateLatest(db, 'registry');
      await walSyncOf(db)?.flush();
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return new KnexMetadataStore(db);
  }

  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.durably(this.db.transaction((trx) => fn(trx)));
  }

  /** Resolves with a committed write's result once the commit is on disk. */
  private async durably<T>(committed: Promise<T>): Promise<T> {
    const result = await committed;
    await this.walSync?.flush();
    return result;
  }

  private exec(tx: Tx | undefined): q.Executor {
    return tx === undefined ? this.db : asTransaction(tx);
  }

  /**
   * Runs a multi-statement write atomically: in its own transaction, or in a savepoint of
   * the caller's so a failure leaves the caller's earlier work intact.
   */
  private atomic<T>(tx: Tx | undefined, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return tx === undefined ? this.durably(this.db.transaction(fn)) : asTransaction(tx).transaction(fn);
  }

  /** The repository's id, creating the row when this is its first content. */
  private async ensureRepository(db: q.Executor, repository: string): Promise<number> {
    const existing: { id: number } | undefined = await q.repositoryByName(db, repository);
    if (existing) return existing.id;
    await db('repositories').insert({ name: repository, created_at: new Date() }).onConflict('name').ignore();
    const created: { id: number } | undefined = await q.repositoryByName(db, repository);
    // Only a concurrent schema drop could make this fail.
    if (!created) throw new Error(`metadata store: repository row for ${repository} vanished after insert`);
    return created.id;
  }

  /** True when the repository has at least one manifest, tag or blob link. */
  async repositoryExists(name: string, tx?: Tx): Promise<boolean> {
    assertName(name);
    const row: { present: number | string | boolean } | undefined =
      this.fast && tx === undefined ? this.fast.repositoryHasContent.get(name) : await q.repositoryHasContent(this.exec(tx), name);
    return row !== undefined && Number(row.present) === 1;
  }

  /** Every repository that ever held content, in byte order (emptied ones stay listed). */
  async listRepositories(page: Page, tx?: Tx): Promise<string[]> {
    const { last, n } = checkPage(page);
    if (n === 0) return [];
    const rows: Array<{ name: string }> = await q.repositoryPage(this.exec(tx), last, n);
    return rows.map((row) => row.name);
  }

  /** Up to `n` names of `range` in byte order. */
  async listRepositoryRange(range: NameRange, n: number, tx?: Tx): Promise<string[]> {
    checkPage({ n });
    for (const bound of [range.start?.name, range.before]) {
      if (bound !== undefined) checkPage({ n, last: bound });
    }
    if (n === 0) return [];
    const rows: Array<{ name: string }> = await q.repositoryRange(this.exec(tx), range, n);
    return rows.map((row) => row.name);
  }

  /** Which of `names` are repositories after `last`, in byte order. */
  async listRepositoriesNamed(names: readonly string[], last: string | undefined, tx?: Tx): Promise<string[]> {
    checkPage({ n: 0, ...(last === undefined ? {} : { last }) });
    const valid = names.filter(isValidName);
    if (valid.length === 0) return [];
    const found: string[] = [];
    for (let start = 0; start < valid.length; start += NAMED_BATCH) {
      const rows: Array<{ name: string }> = await q.repositoriesNamed(this.exec(tx), valid.slice(start, start + NAMED_BATCH), last);
      for (const row of rows) found.push(row.name);
    }
    return found.sort(compareNames);
  }

  /** Makes the blob visible in the repository (idempotent). */
  async linkBlob(repository: string, digest: string, size: number, tx?: Tx): Promise<void> {
    assertName(repository);
    checkDigest(digest);
    checkSize(size);
    await this.atomic(tx, async (trx) => {
      const repositoryId = await this.ensureRepository(trx, repository);
      await trx('blob_links')
        .insert({ repository_id: repositoryId, digest, size, created_at: new Date() })
        .onConflict(['repository_id', 'digest'])
        .ignore();
    });
  }

  /** Size of the blob if it is linked into the repository, else null. */
  async getBlobLink(repository: string, digest: string, tx?: Tx): Promise<{ size: number } | null> {
    assertName(repository);
    checkDigest(digest);
    const row: { size: number | string } | undefined =
      this.fast && tx === undefined ? this.fast.blobLink.get(repository, digest) : await q.blobLink(this.exec(tx), repository, digest);
    return row ? { size: toNumber(row.size) } : null;
  }

  /** Removes the link; false if it was not there. */
  async unlinkBlob(repository: string, digest: string, tx?: Tx): Promise<boolean> {
    assertName(repository);
    checkDigest(digest);
    const deleted = await this.atomic(tx, (trx) =>
      trx('blob_links').where('repository_id', q.repositoryIdOf(trx, repository)).andWhere('digest', digest).del(),
    );
    return deleted > 0;
  }

  /** Size of the blob if any repository links it. */
  async findBlob(digest: string, tx?: Tx): Promise<{ size: number } | null> {
    checkDigest(digest);
    const row: { size: number | string } | undefined =
      this.fast && tx === undefined ? this.fast.blobAnywhere.get(digest) : await q.blobAnywhere(this.exec(tx), digest);
    return row ? { size: toNumber(row.size) } : null;
  }

  /** Records a manifest and its references; the same digest again changes nothing. */
  async putManifest(repository: string, manifest: NewManifest, tx?: Tx): Promise<void> {
    assertName(repository);
    checkNewManifest(manifest);
    await this.atomic(tx, async (trx) => {
      const repositoryId = await this.ensureRepository(trx, repository);
      // A digest names its content, so a second put of it carries nothing new.
      await trx('manifests')
        .insert({
          repository_id: repositoryId,
          digest: manifest.digest,
          media_type: manifest.mediaType,
          size: manifest.size,
          artifact_type: manifest.artifactType,
          subject: manifest.subject,
          annotations: serializeAnnotations(manifest.annotations),
          created_at: new Date(),
        })
        .onConflict(['repository_id', 'digest'])
        .ignore();
      const stored: ManifestRow | undefined = await q.manifestByDigest(trx, repository, manifest.digest);
      if (!stored) throw new Error(`metadata store: manifest ${manifest.digest} vanished after insert`);
      const rows = referenceRows(stored.id, manifest);
      for (let start = 0; start < rows.length; start += REFERENCE_BATCH) {
        await trx('manifest_references')
          .insert(rows.slice(start, start + REFERENCE_BATCH))
          .onConflict(['manifest_id', 'kind', 'digest'])
          .ignore();
      }
    });
  }

  /** The manifest of the repository with this digest, or null. */
  async getManifest(repository: string, digest: string, tx?: Tx): Promise<ManifestRecord | null> {
    assertName(repository);
    checkDigest(digest);
    const row: ManifestRow | undefined =
      this.fast && tx === undefined ? this.fast.manifestByDigest.get(repository, digest) : await q.manifestByDigest(this.exec(tx), repository, digest);
    return row ? toManifestRecord(repository, row) : null;
  }

  /** The blob and child-manifest digests a manifest references, or null without the manifest. */
  async getManifestReferences(repository: string, digest: string, tx?: Tx): Promise<ManifestReferences | null> {
    assertName(repository);
    checkDigest(digest);
    const rows: Array<{ kind: string | null; reference: string | null }> =
      this.fast && tx === undefined
        ? this.fast.manifestReferences.all(repository, digest)
        : await q.manifestReferences(this.exec(tx), repository, digest);
    if (rows.length === 0) return null;
    const references: ManifestReferences = { blobs: [], manifests: [] };
    for (const row of rows) {
      if (row.reference === null) continue;
      if (row.kind === 'blob') references.blobs.push(row.reference);
      else if (row.kind === 'manifest') references.manifests.push(row.reference);
    }
    // Sorted here, not in SQL: digests are ASCII, so this is byte order, and the query stays sort-free.
    references.blobs.sort();
    references.manifests.sort();
    return references;
  }

  /** Deletes the manifest, its tags (recorded in the tag history) and its reference rows; lineage rows go by ON DELETE CASCADE. */
  async deleteManifest(repository: string, digest: string, tx?: Tx, actor?: string): Promise<boolean> {
    assertName(repository);
    checkDigest(digest);
    return this.atomic(tx, async (trx) => {
      const row: ManifestRow | undefined = await q.manifestByDigest(trx, repository, digest);
      if (!row) return false;
      const tags: Array<{ name: string }> = await trx('tags').select('name').where({ repository_id: row.repository_id, digest });
      for (const { name } of tags) {
        await recordTagMove(trx, { repositoryId: row.repository_id, tag: name, oldDigest: digest, newDigest: null, actor: actor ?? null });
      }
      await trx('tags').where({ repository_id: row.repository_id, digest }).del();
      await trx('manifest_references').where('manifest_id', row.id).del();
      // A concurrent delete of the same manifest may have won: only one caller sees true.
      return (await trx('manifests').where('id', row.id).del()) > 0;
    });
  }

  /** Points tag at digest; MANIFEST_UNKNOWN unless the manifest is in the repository. */
  async putTag(repository: string, tag: string, digest: string, tx?: Tx, actor?: string): Promise<void> {
    assertName(repository);
    assertTag(tag);
    checkDigest(digest);
    await this.atomic(tx, async (trx) => {
      const manifest: ManifestRow | undefined = await q.manifestByDigest(trx, repository, digest);
      if (!manifest) throw fail('MANIFEST_UNKNOWN', 'tag points at a manifest unknown to the repository', { digest });
      const previous: { digest: string } | undefined = await q.tagByName(trx, repository, tag);
      try {
        await trx('tags')
          .insert({ repository_id: manifest.repository_id, name: tag, digest, updated_at: new Date() })
          .onConflict(['repository_id', 'name'])
          .merge(['digest', 'updated_at']);
        await recordTagMove(trx, {
          repositoryId: manifest.repository_id,
          tag,
          oldDigest: previous?.digest ?? null,
          newDigest: digest,
          actor: actor ?? null,
        });
      } catch (err) {
        // The manifest was deleted between the lookup and the insert (PostgreSQL, another writer).
        if (isForeignKeyViolation(err)) {
          throw fail('MANIFEST_UNKNOWN', 'tag points at a manifest unknown to the repository', { digest });
        }
        throw err;
      }
    });
  }

  /** Digest the tag points at, or null. */
  async resolveTag(repository: string, tag: string, tx?: Tx): Promise<string | null> {
    assertName(repository);
    assertTag(tag);
    const row: { digest: string } | undefined =
      this.fast && tx === undefined ? this.fast.tagByName.get(repository, tag) : await q.tagByName(this.exec(tx), repository, tag);
    return row ? row.digest : null;
  }

  /** Removes the tag; false if it was not there. */
  async deleteTag(repository: string, tag: string, tx?: Tx, actor?: string): Promise<boolean> {
    assertName(repository);
    assertTag(tag);
    return this.atomic(tx, async (trx) => {
      const previous: { digest: string } | undefined = await q.tagByName(trx, repository, tag);
      if (!previous) return false;
      const deleted = await trx('tags').where('repository_id', q.repositoryIdOf(trx, repository)).andWhere('name', tag).del();
      if (deleted === 0) return false;
      const repositoryId: { id: number } = await q.repositoryByName(trx, repository);
      await recordTagMove(trx, { repositoryId: repositoryId.id, tag, oldDigest: previous.digest, newDigest: null, actor: actor ?? null });
      return true;
    });
  }

  /** Tags in byte order (upper case before lower case), strictly after `page.last`. */
  async listTags(repository: string, page: Page, tx?: Tx): Promise<string[]> {
    assertName(repository);
    const { last, n } = checkPage(page);
    if (n === 0) return [];
    let rows: Array<{ name: string }>;
    if (this.fast && tx === undefined) {
      rows = last === undefined ? this.fast.firstTagPage.all(repository, n) : this.fast.tagPage.all(repository, last, n);
    } else {
      rows = await q.tagPage(this.exec(tx), repository, last, n);
    }
    return rows.map((row) => row.name);
  }

  /** Referrers of `subject` in the repository, ordered by digest. */
  async listReferrers(repository: string, subject: string, artifactType?: string, tx?: Tx): Promise<ReferrerDescriptor[]> {
    assertName(repository);
    checkDigest(subject);
    // A filter no stored artifact type can equal matches nothing; it never reaches SQL.
    if (artifactType !== undefined && !isStorableMediaType(artifactType)) return [];
    const rows: ManifestRow[] = await q.referrers(this.exec(tx), repository, subject, artifactType);
    return rows.map(toReferrer);
  }

  /** Cheap liveness probe for /readyz. */
  async ping(): Promise<void> {
    await this.db.raw('select 1');
  }

  /** Closes the database connections. */
  async close(): Promise<void> {
    await this.db.destroy();
  }
}
