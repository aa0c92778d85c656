/**
 * Token signing keys on disk: one ES256 key signs, the next one is published ahead (so
 * verifiers know it before it signs: see rotate()), recently rotated keys stay published
 * (JWKS and PEM bundle) until every token they signed has expired. The directory is
 * shared by the auth service and the admin CLI; the manifest (keys.json) is replaced
 * atomically, so a running service picks up a rotation by noticing the manifest changed.
 *
 * Layout (directory mode 0700, every file 0600):
 *   keys.json        {"version":1,"generation":N,"current":KID,"next":KID,"keys":[{kid,file,createdAt,retainUntil}]}
 *   FILE.key         PKCS#8 PEM private key
 *   FILE.crt         PEM self-signed certificate of that key
 *   keys.lock        present only while a process creates or rotates keys
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquirePidLock, LockHeldError, type PidLock } from '../process/pid-lock.js';
import { keyTimings, rotateWhenPublished, type KeyStoreOptions } from './key-timing.js';
import { libtrustKeyId, MANIFEST, parseManifest, readKeyFiles, readManifest, writeFileAtomic, writeNewFile, type Manifest, type ManifestEntry } from './key-manifest.js';
import { certificateToPem, createSelfSignedCertificate } from './x509.js';

export { libtrustKeyId } from './key-manifest.js';
export { DEFAULT_PUBLISH_AHEAD_SECONDS, DEFAULT_RETAIN_SECONDS, type KeyStoreOptions } from './key-timing.js';

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
  /** Every published public key (current first, then the next one) as a JWKS document. */
  jwks(): { keys: PublicJwk[] };
  /** PEM bundle of every published certificate. */
  certificatesPem(): string;
  /**
   * Makes the next key (published ahead) the signer once it has been published for the
   * publish-ahead time, publishes a fresh next key; the previous signer stays published for
   * the retention time.
   */
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

const LOCK = 'keys.lock';
const LOCK_WAIT_MS = 15_000;
const CERTIFICATE_DAYS = 3650;

interface LoadedKey extends SigningKey {
  retainUntil: number | null;
}

/** Signing keys in a directory, shared between the auth service and the CLI. */
export class KeyStore implements SigningKeys {
  private keys: LoadedKey[] = [];
  private currentKid = '';
  private nextKid: string | undefined;
  private manifestStamp = '';
  /** When refresh() last stat'ed the manifest (epoch ms). */
  private checkedAt = 0;
  /** One reload shared by every caller that noticed the same change. */
  private reloading: Promise<void> | null = null;

  private constructor(
    private readonly dir: string,
    private readonly retainMs: number,
    private readonly publishAheadMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Opens (creating on first start: directory, ES256 keys, certificates) the key directory;
   * a directory of an earlier version gets its next key. `retainSeconds` should be the
   * longest token TTL plus verifier leeway; `now` is for tests.
   */
  static async open(dir: string, options: KeyStoreOptions = {}): Promise<KeyStore> {
    const { retainMs, publishAheadMs } = keyTimings(options);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Tighten a directory created under a loose umask; one we may not change (read-only
    // mount, other owner) is the operator's to protect.
    await chmod(dir, 0o700).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM' && err.code !== 'EROFS') throw err;
    });
    const store = new KeyStore(dir, retainMs, publishAheadMs, options.now ?? Date.now);
    if ((await readManifest(dir))?.next === undefined) await store.ensureNext();
    await store.reload();
    return store;
  }

  /** The key that signs new tokens. */
  current(): SigningKey {
    const key = this.keys.find((k) => k.kid === this.currentKid)!;
    return { kid: key.kid, alg: key.alg, privateKey: key.privateKey, publicKey: key.publicKey, certificateDer: key.certificateDer };
  }

  /** Every published public key (current first, then the next one) as a JWKS document. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.published().map(publicJwkOf) };
  }

  /** PEM bundle of every published certificate: what a registry's rootcertbundle holds. */
  certificatesPem(): string {
    return this.published().map((k) => certificateToPem(k.certificateDer)).join('');
  }

  /**
   * Makes the next key the signer once it has been published for the publish-ahead time
   * (waiting the rest of it when the last rotation was that recent), and publishes a fresh
   * next key. The previous signer stays published for the retention time; keys whose
   * retention has ended are deleted.
   */
  async rotate(): Promise<SigningKey> {
    const path = join(this.dir, MANIFEST);
    await rotateWhenPublished(
      {
        readNext: async () => {
          const seen = parseManifest(await readFile(path, 'utf8'), path);
          const next = seen.keys.find((k) => k.kid === seen.next);
          return next && { kid: next.kid, publishedAt: Date.parse(next.createdAt) };
        },
        ensureNext: () => this.ensureNext(),
        switchTo: (nextKid) =>
          this.withLock(async () => {
            const manifest = parseManifest(await readFile(path, 'utf8'), path);
            if (manifest.next !== nextKid) return false;
            const now = this.now();
            const retainUntil = new Date(now + this.retainMs).toISOString();
            const kept: ManifestEntry[] = [];
            const expired: ManifestEntry[] = [];
            for (const entry of manifest.keys) {
              if (entry.kid === manifest.current) kept.push({ ...entry, retainUntil });
              else if (entry.kid === nextKid || (entry.retainUntil !== null && Date.parse(entry.retainUntil) > now)) kept.push(entry);
              else expired.push(entry);
            }
            const fresh = await this.createKeyFiles();
            const next: Manifest = { version: 1, generation: manifest.generation + 1, current: nextKid, next: fresh.kid, keys: [...kept, fresh] };
            await writeFileAtomic(path, JSON.stringify(next, null, 2));
            for (const entry of expired) {
              await rm(join(this.dir, `${entry.file}.key`), { force: true });
              await rm(join(this.dir, `${entry.file}.crt`), { force: true });
            }
            return true;
          }),
      },
      this.publishAheadMs,
      this.now,
    );
    await this.reload();
    return this.current();
  }

  /** Writes the first keys of an empty directory, or the next key a directory of an earlier version lacks. */
  private async ensureNext(): Promise<void> {
    const manifestPath = join(this.dir, MANIFEST);
    await this.withLock(async () => {
      const manifest = await readManifest(this.dir); // another process may have written it while we waited
      if (manifest === null) {
        const [current, next] = [await this.createKeyFiles(), await this.createKeyFiles()];
        await writeFileAtomic(manifestPath, JSON.stringify({ version: 1, generation: 1, current: current.kid, next: next.kid, keys: [current, next] }, null, 2));
      } else if (manifest.next === undefined) {
        const next = await this.createKeyFiles();
        const upgraded: Manifest = { ...manifest, generation: manifest.generation + 1, next: next.kid, keys: [...manifest.keys, next] };
        await writeFileAtomic(manifestPath, JSON.stringify(upgraded, null, 2));
      }
    });
  }

  /** Re-reads the directory unconditionally. */
  async reload(): Promise<void> {
    const path = join(this.dir, MANIFEST);
    const stamp = await this.stamp();
    const manifest = parseManifest(await readFile(path, 'utf8'), path);
    const now = this.now();
    const keys: LoadedKey[] = [];
    for (const entry of manifest.keys) {
      const role = entry.kid === manifest.current ? 'current' : entry.kid === manifest.next ? 'next' : 'retired';
      const retainUntil = role === 'retired' && entry.retainUntil !== null ? Date.parse(entry.retainUntil) : null;
      if (role === 'retired' && (retainUntil === null || retainUntil <= now)) continue;
      const files = await readKeyFiles(this.dir, entry, role === 'current');
      if (files) keys.push({ kid: entry.kid, alg: 'ES256', privateKey: files.privateKey, publicKey: files.publicKey, certificateDer: files.certificate.raw, retainUntil });
    }
    this.keys = keys;
    this.currentKid = manifest.current;
    this.nextKid = manifest.next;
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

  /** Current, next, then retired keys still in their retention. */
  private published(): LoadedKey[] {
    const now = this.now();
    const rank = (k: LoadedKey): number => (k.kid === this.currentKid ? 0 : k.kid === this.nextKid ? 1 : 2);
    const live = this.keys.filter((k) => rank(k) < 2 || (k.retainUntil !== null && k.retainUntil > now));
    return live.sort((a, b) => rank(a) - rank(b));
  }

  private async stamp(): Promise<string> {
    const s = await stat(join(this.dir, MANIFEST));
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
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
  private async withLock<T>(action: () => Promise<T>): Promise<T> {
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
      return await action();
    } finally {
      await lock.release();
    }
  }
}
