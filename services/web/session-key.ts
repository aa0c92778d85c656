/**
 * The key that seals what a stored web session holds of its user (refresh tokens, a single
 * sign-on under way): AES-256-GCM under a key derived by HKDF-SHA256 from the bytes of the
 * file `web.session.keyfile` (shared/crypto/sealing.ts, as the auth service seals its
 * signing keys). On first start the file is created with 32 random bytes, mode 0600; web replicas on
 * one database must share it (a session sealed by one then opens on the other). The row's
 * id hash is the additional authenticated data, so a sealed value copied onto another
 * session's row does not open.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SealingKey, SealingKeyError } from '../../shared/crypto/sealing.js';

const INFO = 'dockyard web sessions v1';

export class SessionSealer {
  private constructor(private readonly key: SealingKey) {}

  /** Derives the key from `secret` (the file's bytes, surrounding whitespace ignored). */
  static fromSecret(secret: Buffer, source = 'the session key'): SessionSealer {
    return new SessionSealer(SealingKey.fromSecret(secret, INFO, source));
  }

  /** Reads the key file named by `setting`, creating it (0600, in a 0700 directory) when it does not exist. */
  static async fromFile(path: string, setting: string): Promise<SessionSealer> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // 'wx': never overwrite a key another replica or an earlier start wrote.
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${randomBytes(32).toString('base64')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SealingKeyError(`cannot create ${setting} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return new SessionSealer(await SealingKey.fromFile(path, INFO, setting));
  }

  seal(aad: string, plaintext: string): string {
    return this.key.seal(aad, Buffer.from(plaintext, 'utf8'));
  }

  /** The plaintext, or null when the value does not open with this key (another key file, another row, tampered). */
  open(aad: string, sealed: string): string | null {
    return this.key.open(aad, sealed)?.toString('utf8') ?? null;
  }
}
