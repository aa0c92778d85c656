/**
 * The files of a key directory (see keys.ts for the layout): the manifest, its parsing, the
 * key and certificate files of one entry, and the whole directory read for an import into
 * the auth database (services/auth/keys/). Files are written 0600 and replaced by rename,
 * so readers never see half a file.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST = 'keys.json';

export interface ManifestEntry {
  kid: string;
  file: string;
  /** When the key was created, i.e. first published (ISO time). */
  createdAt: string;
  /** Set when the key stops signing: published until then (ISO time). */
  retainUntil: string | null;
}

export interface Manifest {
  version: 1;
  generation: number;
  current: string;
  /** The key published ahead that the next rotation makes current (absent before this version). */
  next?: string;
  keys: ManifestEntry[];
}

/** The key pair and certificate of one manifest entry, checked against each other and the kid. */
export interface KeyFiles {
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificate: X509Certificate;
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

export function parseManifest(text: string, path: string): Manifest {
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
    !m.keys.some((k) => k.kid === m.current) ||
    (m.next !== undefined && (typeof m.next !== 'string' || m.next === m.current || !m.keys.some((k) => k.kid === m.next)))
  ) {
    throw new Error(`key manifest ${path} is malformed (expected version 1 with a current key)`);
  }
  return m as Manifest;
}

/** Reads the manifest of `dir`; null when the directory has none. */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parseManifest(text, path);
}

/** Writes a 0600 file via a temporary name and rename, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
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

export async function writeNewFile(path: string, data: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Reads the key and certificate of an entry. A missing file of a key that is not `required`
 * gives null: a retired key pruned by a concurrent rotation is about to expire anyway.
 */
export async function readKeyFiles(dir: string, entry: ManifestEntry, required: boolean): Promise<KeyFiles | null> {
  const keyPath = join(dir, `${entry.file}.key`);
  const certPath = join(dir, `${entry.file}.crt`);
  let keyPem: string;
  let certPem: string;
  try {
    [keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  } catch (err) {
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
  return { privateKey, publicKey, certificate };
}

/** A key of a directory as the auth database stores it (times in epoch ms). */
export interface DirectoryKey extends KeyFiles {
  kid: string;
  role: 'current' | 'next' | 'retired';
  createdAt: number;
  retainUntil: number | null;
}

/**
 * The keys a directory still publishes at `now` (current, next, retired ones whose
 * retention has not ended), for an import into the auth database; null without a manifest.
 */
export async function readKeyDirectory(dir: string, now: number): Promise<DirectoryKey[] | null> {
  const manifest = await readManifest(dir);
  if (manifest === null) return null;
  const keys: DirectoryKey[] = [];
  for (const entry of manifest.keys) {
    const role = entry.kid === manifest.current ? 'current' : entry.kid === manifest.next ? 'next' : 'retired';
    const retainUntil = entry.retainUntil === null ? null : Date.parse(entry.retainUntil);
    if (role === 'retired' && (retainUntil === null || retainUntil <= now)) continue;
    const files = await readKeyFiles(dir, entry, role === 'current');
    if (files) keys.push({ kid: entry.kid, role, createdAt: Date.parse(entry.createdAt), retainUntil: role === 'retired' ? retainUntil : null, ...files });
  }
  return keys;
}
