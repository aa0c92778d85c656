/**
 * Token signing keys on disk: one ES256 key signs, recently rotated keys stay published
 * (JWKS and PEM bundle) until every token they signed has expired. The directory is
 * shared by the auth service and the admin CLI; the manifest (keys.json) is replaced
 * atomically, so a running service picks up a rotation by noticing the manifest changed.
 *
 * Layout (directory mode 0700, every file 0600):
 *   keys.json        {"version":1,"generation":N,"current":KID,"keys":[{kid,file,createdAt,retainUntil}]}
 *   FILE.key         PKCS#8 PEM private key
 *   FILE.crt         PEM self-signed certificate of that key
 *   keys.lock        present only while a process creates or rotates keys
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquirePidLock, LockHeldError, type PidLock } from '../process/pid-lock.js';
import { certificateToPem, createSelfSignedCertificate } from './x509.js';

/** The key that signs new tokens. */
export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificateDer: Buffer;
}

/** A published public key in JWKS form (RFC 7517) with its certificate chain. */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid: string;
  alg: string;
  use: 'sig';
  x5c: string[];
}

/**
 * What the auth service needs from a source of signing keys: the key directory below
 * (one host) or the auth database (services/auth/keys/, several replicas on several hosts).
 */
export interface SigningKeys {
  /** The key that signs new tokens. */
  current(): SigningKey;
  /** Every published public key (current first) as a JWKS document. */
  jwks(): { keys: PublicJwk[] };
  /** PEM bundle of every published certificate. */
  certificatesPem(): string;
  /** Makes a new key the signer; the previous one stays published for the retention time. */
  rotate(): Promise<SigningKey>;
  /** Picks up a rotation made elsewhere; with `maxAgeMs`, a check that recent stands in for a new one. */
  refresh(maxAgeMs?: number): Promise<boolean>;
}

/** A fresh ES256 key, its libtrust kid and its self-signed certificate (PEM). */
export interface GeneratedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
}

/** Generates a signing key with its certificate. */
export async function generateSigningKey(): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('ec', { namedCurve: 'P-256' }, (err, pub, priv) => (err ? reject(err) : resolve({ privateKey: priv, publicKey: pub }))),
  );
  const kid = libtrustKeyId(publicKey);
  const certificate = createSelfSignedCertificate({ privateKey, publicKey, commonName: `dockyard token signing ${kid.slice(0, 14)}`, days: CERTIFICATE_DAYS });
  return { kid, privateKey, publicKey, certificatePem: certificate.pem };
}

/** The JWKS entry of a published key. */
export function publicJwkOf(key: SigningKey): PublicJwk {
  const jwk = key.publicKey.export({ format: 'jwk' }) as Omit<PublicJwk, 'kid' | 'alg' | 'use' | 'x5c'>;
  return { ...jwk, kid: key.kid, alg: key.alg, use: 'sig', x5c: [key.certificateDer.toString('base64')] };
}

/** Longest token lifetime we expect (1 h) plus verifier clock leeway (60 s). */
export const DEFAULT_RETAIN_SECONDS = 3600 + 60;

const MANIFEST = 'keys.json';
const LOCK = 'keys.lock';
const LOCK_WAIT_MS = 15_000;
const CERTIFICATE_DAYS = 3650;

interface ManifestEntry {
  kid: string;
  file: string;
  createdAt: string;
  /** Set when the key stops signing: published until then (ISO time). */
  retainUntil: string | null;
}

interface Manifest {
  version: 1;
  generation: number;
  current: string;
  keys: ManifestEntry[];
}

interface LoadedKey extends SigningKey {
  retainUntil: number | null;
}

/**
 * The libtrust key ID of a public key: SHA-256 of its DER SubjectPublicKeyInfo, first 30
 * bytes, base32 without padding, in 12 groups of 4 joined by ':'. CNCF distribution 2.8
 * looks up trusted keys by exactly this string.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const digest = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join(':');
}

function isEntry(value: unknown): value is ManifestEntry {
  const e = value as Partial<ManifestEntry> | null;
  return (
    typeof e === 'object' && e !== null && typeof e.kid === 'string' && typeof e.file === 'string' &&
    /^[A-Z0-9]+$/.test(e.file) && typeof e.createdAt === 'string' && (e.retainUntil === null || typeof e.retainUntil === 'string')
  );
}

function parseManifest(text: string, path: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`key manifest ${path} is not valid JSON`);
  }
  const m = value as Partial<Manifest> | null;
  if (
    typeof m !== 'object' || m === null || m.version !== 1 || typeof m.generation !== 'number' ||
    typeof m.current !== 'string' || !Array.isArray(m.keys) || !m.keys.every(isEntry) ||
    !m.keys.some((k) => k.kid === m.current)
  ) {
    throw new Error(`key manifest ${path} is malformed (expected version 1 with a current key)`);
  }
  return m as Manifest;
}

/** Writes a 0600 file via a temporary name and rename, so readers never see half a file. */
async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function writeNewFile(path: string, data: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Signing keys in a directory, shared between the auth service and the CLI. */
export class KeyStore implements SigningKeys {
  private keys: LoadedKey[] = [];
  private currentKid = '';
  private manifestStamp = '';
  /** When refresh() last stat'ed the manifest (epoch ms). */
  private checkedAt = 0;
  /** One reload shared by every caller that noticed the same change. */
  private reloading: Promise<void> | null = null;

  private constructor(
    private readonly dir: string,
    private readonly retainSeconds: number,
    private readonly now: () => number,
  ) {}

  /**
   * Opens (creating on first start: directory, ES256 key, certificate) the key directory.
   * `retainSeconds` should be the longest token TTL plus verifier leeway; `now` is for tests.
   */
  static async open(dir: string, options: { retainSeconds?: number; now?: () => number } = {}): Promise<KeyStore> {
    const retainSeconds = options.retainSeconds ?? DEFAULT_RETAIN_SECONDS;
    if (!Number.isFinite(retainSeconds) || retainSeconds < 0) throw new RangeError('retainSeconds must be >= 0');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Tighten a directory created under a loose umask; one we may not change (read-only
    // mount, other owner) is the operator's to protect.
    await chmod(dir, 0o700).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM' && err.code !== 'EROFS') throw err;
    });
    const store = new KeyStore(dir, retainSeconds, options.now ?? Date.now);
    const manifestPath = join(dir, MANIFEST);
    if (!(await exists(manifestPath))) {
      await store.withLock(async () => {
        if (await exists(manifestPath)) return; // another process created it while we waited
        const entry = await store.createKeyFiles();
        await writeFileAtomic(manifestPath, JSON.stringify({ version: 1, generation: 1, current: entry.kid, keys: [entry] }, null, 2));
      });
    }
    await store.reload();
    return store;
  }

  /** The key that signs new tokens. */
  current(): SigningKey {
    const key = this.keys.find((k) => k.kid === this.currentKid)!;
    return { kid: key.kid, alg: key.alg, privateKey: key.privateKey, publicKey: key.publicKey, certificateDer: key.certificateDer };
  }

  /** Every published public key (current first) as a JWKS document. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.published().map(publicJwkOf) };
  }

  /** PEM bundle of every published certificate: what a registry's rootcertbundle holds. */
  certificatesPem(): string {
    return this.published().map((k) => certificateToPem(k.certificateDer)).join('');
  }

  /**
   * Makes a new key the signer. The previous one stays published for retainSeconds, and
   * keys whose retention has ended are deleted.
   */
  async rotate(): Promise<SigningKey> {
    await this.withLock(async () => {
      const path = join(this.dir, MANIFEST);
      const manifest = parseManifest(await readFile(path, 'utf8'), path);
      const now = this.now();
      const retainUntil = new Date(now + this.retainSeconds * 1000).toISOString();
      const kept: ManifestEntry[] = [];
      const expired: ManifestEntry[] = [];
      for (const entry of manifest.keys) {
        if (entry.kid === manifest.current) kept.push({ ...entry, retainUntil });
        else if (entry.retainUntil !== null && Date.parse(entry.retainUntil) > now) kept.push(entry);
        else expired.push(entry);
      }
      const fresh = await this.createKeyFiles();
      const next: Manifest = { version: 1, generation: manifest.generation + 1, current: fresh.kid, keys: [fresh, ...kept] };
      await writeFileAtomic(path, JSON.stringify(next, null, 2));
      for (const entry of expired) {
        await rm(join(this.dir, `${entry.file}.key`), { force: true });
        await rm(join(this.dir, `${entry.file}.crt`), { force: true });
      }
    });
    await this.reload();
    return this.current();
  }

  /** Re-reads the directory unconditionally. */
  async reload(): Promise<void> {
    const path = join(this.dir, MANIFEST);
    const stamp = await this.stamp();
    const manifest = parseManifest(await readFile(path, 'utf8'), path);
    const now = this.now();
    const keys: LoadedKey[] = [];
    for (const entry of manifest.keys) {
      const isCurrent = entry.kid === manifest.current;
      const retainUntil = entry.retainUntil === null ? null : Date.parse(entry.retainUntil);
      if (!isCurrent && (retainUntil === null || retainUntil <= now)) continue;
      const loaded = await this.loadKey(entry, retainUntil, isCurrent);
      if (loaded) keys.push(loaded);
    }
    this.keys = keys;
    this.currentKid = manifest.current;
    this.manifestStamp = stamp;
  }

  /**
   * Reloads when another process changed the manifest; a cheap stat otherwise. Returns true
   * on reload. With `maxAgeMs`, a check made less than that long ago stands in for the stat,
   * so a busy token endpoint sees a rotation within maxAgeMs instead of stat'ing per token.
   */
  async refresh(maxAgeMs = 0): Promise<boolean> {
    const now = Date.now();
    // A clock that went backwards counts as stale, not as fresh.
    if (maxAgeMs > 0 && now >= this.checkedAt && now - this.checkedAt < maxAgeMs) return false;
    this.checkedAt = now;
    if ((await this.stamp()) === this.manifestStamp) return false;
    this.reloading ??= this.reload().finally(() => {
      this.reloading = null;
    });
    await this.reloading;
    return true;
  }

  private published(): LoadedKey[] {
    const now = this.now();
    const live = this.keys.filter((k) => k.kid === this.currentKid || (k.retainUntil !== null && k.retainUntil > now));
    return live.sort((a, b) => Number(b.kid === this.currentKid) - Number(a.kid === this.currentKid));
  }

  private async stamp(): Promise<string> {
    const s = await stat(join(this.dir, MANIFEST));
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  }

  private async loadKey(entry: ManifestEntry, retainUntil: number | null, required: boolean): Promise<LoadedKey | null> {
    const keyPath = join(this.dir, `${entry.file}.key`);
    const certPath = join(this.dir, `${entry.file}.crt`);
    let keyPem: string;
    let certPem: string;
    try {
      [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    } catch (err) {
      // A retired key pruned by a concurrent rotation is about to expire anyway.
      if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read signing key ${entry.file}: ${(err as Error).message}`);
    }
    const privateKey = createPrivateKey(keyPem);
    const publicKey = createPublicKey(privateKey);
    const certificate = new X509Certificate(certPem);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    if (!certificate.publicKey.export({ type: 'spki', format: 'der' }).equals(spki)) {
      throw new Error(`certificate ${certPath} does not match key ${keyPath}`);
    }
    if (libtrustKeyId(publicKey) !== entry.kid) throw new Error(`key ${keyPath} does not have the kid ${entry.kid} its manifest names`);
    return { kid: entry.kid, alg: 'ES256', privateKey, publicKey, certificateDer: certificate.raw, retainUntil };
  }

  private async createKeyFiles(): Promise<ManifestEntry> {
    const { kid, privateKey, certificatePem } = await generateSigningKey();
    const file = kid.replace(/:/g, '');
    await writeNewFile(join(this.dir, `${file}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await writeNewFile(join(this.dir, `${file}.crt`), certificatePem);
    return { kid, file, createdAt: new Date(this.now()).toISOString(), retainUntil: null };
  }

  /**
   * Serializes creators/rotators across processes with a lock file naming its holder. A
   * holder that was killed mid-rotation no longer runs, so its lock is broken at once.
   */
  private async withLock(action: () => Promise<void>): Promise<void> {
    const lockPath = join(this.dir, LOCK);
    const deadline = Date.now() + LOCK_WAIT_MS;
    let lock: PidLock;
    for (;;) {
      try {
        lock = await acquirePidLock(lockPath);
        break;
      } catch (err) {
        if (!(err instanceof LockHeldError)) throw err;
        if (Date.now() > deadline) throw new Error(`key directory ${this.dir} is locked by process ${err.pid} (${lockPath})`);
        await sleep(50);
      }
    }
    try {
      await action();
    } finally {
      await lock.release();
    }
  }
}
