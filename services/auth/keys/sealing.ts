/**
 * Sealing of signing keys stored in the auth database: AES-256-GCM under a key-encryption
 * key (KEK) derived by HKDF-SHA256 from the contents of a file that each host holds
 * (`auth.keyencryptionkeyfile`). The row's kid is the additional authenticated data, so a
 * sealed key copied onto another row does not open. A database dump alone never yields a
 * private key; a wrong KEK file fails loudly, naming the setting, never the secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const VERSION = 'v1';
const INFO = 'dockyard auth signing keys v1';
/** Fewer bytes than this in the KEK file is a setup mistake (`openssl rand -base64 32` gives 44). */
const MIN_SECRET_BYTES = 32;

/** Thrown when the KEK file is unusable or a sealed key does not open with it. */
export class KeySealError extends Error {}

/** Seals and opens private keys (PKCS#8 DER) with one KEK. */
export class KeySealer {
  private constructor(private readonly kek: Buffer) {}

  /** Derives the KEK from `secret` (the file's bytes, surrounding whitespace ignored). */
  static fromSecret(secret: Buffer, source = 'the key encryption key'): KeySealer {
    const trimmed = Buffer.from(secret.toString('latin1').trim(), 'latin1');
    if (trimmed.length < MIN_SECRET_BYTES) {
      throw new KeySealError(`${source} holds ${trimmed.length} bytes; it needs at least ${MIN_SECRET_BYTES} random bytes (openssl rand -base64 32)`);
    }
    return new KeySealer(Buffer.from(hkdfSync('sha256', trimmed, Buffer.alloc(0), INFO, 32)));
  }

  /** Reads the KEK file named by `setting`. */
  static async fromFile(path: string, setting: string): Promise<KeySealer> {
    let secret: Buffer;
    try {
      secret = await readFile(path);
    } catch (err) {
      throw new KeySealError(`cannot read ${setting} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return KeySealer.fromSecret(secret, `${setting} ${path}`);
  }

  seal(kid: string, plaintext: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.kek, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  open(kid: string, sealed: string): Buffer {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
      throw new KeySealError(`signing key ${kid} is not sealed in a format this version reads`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.kek, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(kid, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    } catch {
      throw new KeySealError(`signing key ${kid} does not open with this key encryption key: every auth replica needs the same auth.keyencryptionkeyfile`);
    }
  }
}
