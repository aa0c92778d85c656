/**
 * Sealing of secrets a service stores in its database (the auth service's signing keys, the
 * web service's sessions): AES-256-GCM under a key derived by HKDF-SHA256 from the bytes of
 * a file each host holds, never from the database itself. Each use names its own HKDF
 * `info`, so one file never gives two uses the same key; the caller's additional
 * authenticated data (a row's id) binds a sealed value to its row, so a copy on another row
 * does not open. Format: `v1.<iv>.<tag>.<ciphertext>`, each part base64.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const VERSION = 'v1';
/** Fewer bytes than this in the file is a setup mistake (`openssl rand -base64 32` gives 44). */
const MIN_SECRET_BYTES = 32;

/** Thrown when the secret file is unusable (missing, unreadable, too short); names the setting, never the secret. */
export class SealingKeyError extends Error {}

export class SealingKey {
  private constructor(private readonly key: Buffer) {}

  /** Derives the key for `info` from `secret` (a file's bytes, surrounding whitespace ignored). */
  static fromSecret(secret: Buffer, info: string, source: string): SealingKey {
    const trimmed = Buffer.from(secret.toString('latin1').trim(), 'latin1');
    if (trimmed.length < MIN_SECRET_BYTES) {
      throw new SealingKeyError(`${source} holds ${trimmed.length} bytes; it needs at least ${MIN_SECRET_BYTES} random bytes (openssl rand -base64 32)`);
    }
    return new SealingKey(Buffer.from(hkdfSync('sha256', trimmed, Buffer.alloc(0), info, 32)));
  }

  /** Reads the file named by `setting` and derives the key for `info` from it. */
  static async fromFile(path: string, info: string, setting: string): Promise<SealingKey> {
    let secret: Buffer;
    try {
      secret = await readFile(path);
    } catch (err) {
      throw new SealingKeyError(`cannot read ${setting} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return SealingKey.fromSecret(secret, info, `${setting} ${path}`);
  }

  /** True when `sealed` has the form this version writes (whatever key sealed it). */
  static readable(sealed: string): boolean {
    const parts = sealed.split('.');
    return parts.length >= 4 && parts[0] === VERSION;
  }

  seal(aad: string, plaintext: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  /** The plaintext, or null when the value does not open with this key (another file, another row, tampered, another format). */
  open(aad: string, sealed: string): Buffer | null {
    if (!SealingKey.readable(sealed)) return null;
    const [, iv, tag, body] = sealed.split('.') as [string, string, string, string];
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    } catch {
      return null;
    }
  }
}
