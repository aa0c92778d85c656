/**
 * Signing keys kept in the auth database, for auth replicas on several hosts: a rotation
 * made by one replica (or by `dockyard keys rotate` anywhere) is the current key of every
 * replica within its next check (1 s on the token path, at once on the JWKS and PEM
 * endpoints). The key a rotation makes current was published (the `is_next` row) at least
 * the publish-ahead time before, so every verifier already trusts it when it starts to
 * sign. Private keys are sealed (./sealing.ts). Creation, the import of a key directory
 * and rotation are serialised across replicas: a PostgreSQL transaction-level advisory
 * lock, SQLite's write lock.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Knex } from 'knex';
import { keyTimings, rotateWhenPublished, type KeyStoreOptions } from '../../../shared/crypto/key-timing.js';
import { generateSigningKey, libtrustKeyId, publicJwkOf, type PublicJwk, type SigningKey, type SigningKeys } from '../../../shared/crypto/keys.js';
import { certificateToPem } from '../../../shared/crypto/x509.js';
import { isPostgres, toMillis, toMillisOrNull } from '../store/common.js';
import { importKeyDirectory } from './directory-import.js';
import type { KeySealer } from './sealing.js';

/** An int8 naming the rotation lock among the database's advisory locks ("dockkeys"). */
const ROTATION_LOCK = '7237951186049557875';

interface KeyRow {
  kid: string;
  certificate: string;
  sealed_private_key: string;
  created_at: unknown;
  retain_until: unknown;
  is_next: unknown;
}

interface LoadedKey extends SigningKey {
  retainUntil: number | null;
  next: boolean;
  createdAt: number;
}

/** Options of DatabaseKeyStore.open: the key stores' own, and a key directory to import once. */
export interface DatabaseKeyStoreOptions extends KeyStoreOptions {
  /** The `auth.keysdir` of a host that used the directory store: its keys are imported into an empty table. */
  importFrom?: string;
  /** Told how many keys were imported from `importFrom`. */
  onImport?: (kids: string[]) => void;
}

export class DatabaseKeyStore implements SigningKeys {
  private keys: LoadedKey[] = [];
  /** The (kid, retain_until, is_next) list last loaded: a rotation anywhere changes it. */
  private stamp = '';
  private checkedAt = 0;
  private reloading: Promise<void> | null = null;

  private constructor(
    private readonly db: Knex,
    private readonly sealer: KeySealer,
    private readonly retainMs: number,
    private readonly publishAheadMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Opens the store. A table without a current key gets the keys of `importFrom` (a key
   * directory) when it has any, else a fresh key; a table without a next key gets one.
   */
  static async open(db: Knex, sealer: KeySealer, options: DatabaseKeyStoreOptions = {}): Promise<DatabaseKeyStore> {
    const { retainMs, publishAheadMs } = keyTimings(options);
    const store = new DatabaseKeyStore(db, sealer, retainMs, publishAheadMs, options.now ?? Date.now);
    let imported: string[] = [];
    await store.locked(async (trx) => {
      if (!(await currentRow(trx))) {
        if (options.importFrom !== undefined) imported = await importKeyDirectory(trx, sealer, options.importFrom, store.now());
        if (!(await currentRow(trx))) await store.insertFresh(trx, false);
      }
      if (!(await nextRow(trx))) await store.insertFresh(trx, true);
    });
    if (imported.length > 0) options.onImport?.(imported);
    await store.reload();
    return store;
  }

  current(): SigningKey {
    const key = this.keys.find((k) => k.retainUntil === null && !k.next);
    if (!key) throw new Error('no current signing key is loaded');
    return { kid: key.kid, alg: key.alg, privateKey: key.privateKey, publicKey: key.publicKey, certificateDer: key.certificateDer };
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: this.published().map(publicJwkOf) };
  }

  certificatesPem(): string {
    return this.published().map((k) => certificateToPem(k.certificateDer)).join('');
  }

  /**
   * Makes the next key current once it has been published for the publish-ahead time
   * (waiting outside any lock for the rest of it when the last rotation was that recent),
   * and publishes a fresh next key. The previous key is retained; expired ones are deleted.
   */
  async rotate(): Promise<SigningKey> {
    await rotateWhenPublished(
      {
        readNext: async () => {
          const row = await nextRow(this.db);
          return row && { kid: row.kid, publishedAt: toMillis(row.created_at) };
        },
        ensureNext: () =>
          this.locked(async (trx) => {
            if (!(await nextRow(trx))) await this.insertFresh(trx, true);
          }),
        switchTo: async (kid) => {
          let done = false;
          await this.locked(async (trx) => {
            if ((await nextRow(trx))?.kid !== kid) return;
            const now = this.now();
            await trx('signing_keys').where('retain_until', '<=', now).delete();
            await trx('signing_keys').whereNull('retain_until').where({ is_next: false }).update({ retain_until: now + this.retainMs });
            await trx('signing_keys').where({ kid }).update({ is_next: false });
            await this.insertFresh(trx, true);
            done = true;
          });
          return done;
        },
      },
      this.publishAheadMs,
      this.now,
    );
    await this.reload();
    return this.current();
  }

  async refresh(maxAgeMs = 0): Promise<boolean> {
    const now = Date.now();
    if (maxAgeMs > 0 && now >= this.checkedAt && now - this.checkedAt < maxAgeMs) return false;
    this.checkedAt = now;
    if ((await this.readStamp()) === this.stamp) return false;
    this.reloading ??= this.reload().finally(() => {
      this.reloading = null;
    });
    await this.reloading;
    return true;
  }

  /** Re-reads every live key; keys already opened are reused (opening costs a decryption). */
  async reload(): Promise<void> {
    const now = this.now();
    const rows: KeyRow[] = await this.db('signing_keys').orderBy('created_at', 'desc').select('kid', 'certificate', 'sealed_private_key', 'created_at', 'retain_until', 'is_next');
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    const keys: LoadedKey[] = [];
    for (const row of rows) {
      const retainUntil = toMillisOrNull(row.retain_until);
      if (retainUntil !== null && retainUntil <= now) continue;
      const loaded = known.get(row.kid) ?? this.openRow(row);
      keys.push({ ...loaded, retainUntil, next: retainUntil === null && Boolean(row.is_next) });
    }
    if (!keys.some((k) => k.retainUntil === null && !k.next)) throw new Error('the signing_keys table holds no current key');
    this.keys = keys;
    this.stamp = stampOf(rows);
  }

  /** Current, next, then retired keys still in their retention (newest first). */
  private published(): LoadedKey[] {
    const now = this.now();
    const rank = (k: LoadedKey): number => (k.retainUntil !== null ? 2 : k.next ? 1 : 0);
    return this.keys.filter((k) => k.retainUntil === null || k.retainUntil > now).sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt);
  }

  private async readStamp(): Promise<string> {
    return stampOf(await this.db('signing_keys').orderBy('created_at', 'desc').select('kid', 'retain_until', 'is_next'));
  }

  private openRow(row: KeyRow): LoadedKey {
    const privateKey: KeyObject = createPrivateKey({ key: this.sealer.open(row.kid, row.sealed_private_key), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey(privateKey);
    const certificate = new X509Certificate(row.certificate);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    if (!certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(spki)) throw new Error(`signing key ${row.kid}: certificate does not match the key`);
    if (libtrustKeyId(publicKey) !== row.kid) throw new Error(`signing key ${row.kid}: the key does not have this kid`);
    return {
      kid: row.kid, alg: 'ES256', privateKey, publicKey, certificateDer: certificate.raw,
      retainUntil: toMillisOrNull(row.retain_until), next: Boolean(row.is_next), createdAt: toMillis(row.created_at),
    };
  }

  private async insertFresh(trx: Knex.Transaction, next: boolean): Promise<void> {
    const fresh = await generateSigningKey();
    const der = fresh.privateKey.export({ type: 'pkcs8', format: 'der' });
    await trx('signing_keys').insert({
      kid: fresh.kid,
      certificate: fresh.certificatePem,
      sealed_private_key: this.sealer.seal(fresh.kid, der),
      created_at: this.now(),
      retain_until: null,
      is_next: next,
    });
  }

  private locked(task: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
    return this.db.transaction(async (trx) => {
      if (isPostgres(trx)) await trx.raw('select pg_advisory_xact_lock(?::bigint)', [ROTATION_LOCK]);
      await task(trx);
    });
  }
}

/** The key that signs: no retention end, not the next one. */
function currentRow(db: Knex): Promise<{ kid: string } | undefined> {
  return db('signing_keys').whereNull('retain_until').where({ is_next: false }).first('kid');
}

/** The key published ahead (an earlier version's rotation may have retired it: then there is none). */
function nextRow(db: Knex): Promise<{ kid: string; created_at: unknown } | undefined> {
  return db('signing_keys').whereNull('retain_until').where({ is_next: true }).orderBy('created_at', 'desc').first('kid', 'created_at');
}

function stampOf(rows: Array<{ kid: string; retain_until: unknown; is_next: unknown }>): string {
  return rows.map((r) => `${r.kid}@${r.retain_until === null ? '' : toMillis(r.retain_until)}${r.is_next ? '+' : ''}`).join(',');
}
