/**
 * Sealing of signing keys stored in the auth database (shared/crypto/sealing.ts) under a
 * key-encryption key (KEK) from a file each host holds (`auth.keyencryptionkeyfile`). The
 * row's kid is the additional authenticated data, so a sealed key copied onto another row
 * does not open. A database dump alone never yields a private key; a wrong KEK file fails
 * loudly, naming the setting, never the secret.
 */
import { SealingKey, SealingKeyError } from '../../../shared/crypto/sealing.js';

const INFO = 'dockyard auth signing keys v1';

/** Seals and opens private keys (PKCS#8 DER) with one KEK. */
export class KeySealer {
  private constructor(private readonly kek: SealingKey) {}

  /** Derives the KEK from `secret` (the file's bytes, surrounding whitespace ignored). */
  static fromSecret(secret: Buffer, source = 'the key encryption key'): KeySealer {
    return new KeySealer(SealingKey.fromSecret(secret, INFO, source));
  }

  /** Reads the KEK file named by `setting`. */
  static async fromFile(path: string, setting: string): Promise<KeySealer> {
    return new KeySealer(await SealingKey.fromFile(path, INFO, setting));
  }

  seal(kid: string, plaintext: Buffer): string {
    return this.kek.seal(kid, plaintext);
  }

  open(kid: string, sealed: string): Buffer {
    if (!SealingKey.readable(sealed)) throw new SealingKeyError(`signing key ${kid} is not sealed in a format this version reads`);
    const opened = this.kek.open(kid, sealed);
    if (opened === null) {
      throw new SealingKeyError(`signing key ${kid} does not open with this key encryption key: every auth replica needs the same auth.keyencryptionkeyfile`);
    }
    return opened;
  }
}
