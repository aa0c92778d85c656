/**
 * Signing keys kept in the auth database, for auth replicas on several hosts: a rotation
 * made by one replica (or by `dockyard keys rotate` anywhere) is the current key of every
 * replica within its next check (1 s on the token path, at once on the JWKS and PEM
 * endpoints), and registries that trust the auth service's JWKS learn the new kid on the
 * first token that names it. Private keys are sealed (./sealing.ts). Creation and rotation
 * are serialised across replicas: a PostgreSQL transaction-level advisory lock, SQLite's
 * write lock.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Knex } from 'knex';
import { DEFAULT_RETAIN_SECONDS, generateSigningKey, libtrustKeyId, publicJwkOf, type PublicJwk, type SigningKey, type SigningKeys } from '../../../shared/crypto/keys.js';
import { certificateToPem } from '../../../shared/crypto/x509.js';
import { isPostgres, toMillis, toMillisOrNull } from '../store/common.js';
import type { KeySealer } from './sealing.js';

/** An int8 naming the rotation lock among the database's advisory locks ("dockkeys"). */
const ROTATION_LOCK = '7237951186049557875';

interface KeyRow {
  kid: string;
  certificate: string;
  sealed_private_key: string;
  created_at: unknown;
  retain_until: unknown;
}

interface LoadedKey extends SigningKey {
  retainUntil: number | null;
}

export class DatabaseKeyStore implements SigningKeys {
  private keys: LoadedKey[] = [];
  /** The (kid, retain_until) list last loaded: a rotation anywhere changes it. */
  private stamp = '';
  private checkedAt = 0;
  private reloading: Promise<void> | null = null;

  private constructor(
    private readonly db: Knex,
    private readonly sealer: KeySealer,
    private readonly retainSeconds: number,
    private readonly now: () => number,
  ) {}

  /** Opens the store, creating the first key when the table holds no current one. */
  static async open(db: Knex, sealer: KeySealer, options: { retainSeconds?: number; now?: () => number } = {}): Promise<DatabaseKeyStore> {
    const retainSeconds = options.retainSeconds ?? DEFAULT_RETAIN_SECONDS;
    if (!Number.isFinite(retainSeconds) || retainSeconds < 0) throw new RangeError('retainSeconds must be >= 0');
    const store = new DatabaseKeyStore(db, sealer, retainSeconds, options.now ?? Date.now);
    await store.locked(async (trx) => {
      const current = await trx('signing_keys').whereNull('retain_until').first('kid');
      if (!current) await store.insertFresh(trx);
    });
    await store.reload();
    return store;
  }

  current(): SigningKey {
    const key = this.keys.find((k) => k.retainUntil === null);
    if (!key) throw new Error('no current signing key is loaded');
    return { kid: key.kid, alg: key.alg, privateKey: key.privateKey, publicKey: key.publicKey, certificateDer: key.certificateDer };
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: this.published().map(publicJwkOf) };
  }

  certificatesPem(): string {
    return this.published().map((k) => certificateToPem(k.certificateDer)).join('');
  }

  async rotate(): Promise<SigningKey> {
    await this.locked(async (trx) => {
      const now = this.now();
      await trx('signing_keys').where('retain_until', '<=', now).delete();
      await trx('signing_keys').whereNull('retain_until').update({ retain_until: now + this.retainSeconds * 1000 });
      await this.insertFresh(trx);
    });
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
    const rows: KeyRow[] = await this.db('signing_keys').orderBy('created_at', 'desc').select('kid', 'certificate', 'sealed_private_key', 'created_at', 'retain_until');
    const known = new Map(this.keys.map((k) => [k.kid, k]));
    const keys: LoadedKey[] = [];
    for (const row of rows) {
      const retainUntil = toMillisOrNull(row.retain_until);
      if (retainUntil !== null && retainUntil <= now) continue;
      const loaded = known.get(row.kid) ?? this.openRow(row);
      keys.push({ ...loaded, retainUntil });
    }
    if (!keys.some((k) => k.retainUntil === null)) throw new Error('the signing_keys table holds no current key');
    this.keys = keys;
    this.stamp = stampOf(rows);
  }

  private published(): LoadedKey[] {
    const now = this.now();
    return this.keys
      .filter((k) => k.retainUntil === null || k.retainUntil > now)
      .sort((a, b) => Number(b.retainUntil === null) - Number(a.retainUntil === null));
  }

  private async readStamp(): Promise<string> {
    return stampOf(await this.db('signing_keys').orderBy('created_at', 'desc').select('kid', 'retain_until'));
  }

  private openRow(row: KeyRow): LoadedKey {
    const privateKey: KeyObject = createPrivateKey({ key: this.sealer.open(row.kid, row.sealed_private_key), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey(privateKey);
    const certificate = new X509Certificate(row.certificate);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    if (!certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(spki)) throw new Error(`signing key ${row.kid}: certificate does not match the key`);
    if (libtrustKeyId(publicKey) !== row.kid) throw new Error(`signing key ${row.kid}: the key does not have this kid`);
    return { kid: row.kid, alg: 'ES256', privateKey, publicKey, certificateDer: certificate.raw, retainUntil: toMillisOrNull(row.retain_until) };
  }

  private async insertFresh(trx: Knex.Transaction): Promise<void> {
    const fresh = await generateSigningKey();
    const der = fresh.privateKey.export({ type: 'pkcs8', format: 'der' });
    await trx('signing_keys').insert({
      kid: fresh.kid,
      certificate: fresh.certificatePem,
      sealed_private_key: this.sealer.seal(fresh.kid, der),
      created_at: this.now(),
      retain_until: null,
    });
  }

  private locked(task: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
    return this.db.transaction(async (trx) => {
      if (isPostgres(trx)) await trx.raw('select pg_advisory_xact_lock(?::bigint)', [ROTATION_LOCK]);
      await task(trx);
    });
  }
}

function stampOf(rows: Array<{ kid: string; retain_until: unknown }>): string {
  return rows.map((r) => `${r.kid}@${r.retain_until === null ? '' : toMillis(r.retain_until)}`).join(',');
}
