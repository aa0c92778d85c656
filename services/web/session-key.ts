/**
 * The key that seals what a stored web session holds of its user (refresh tokens, a single
 * sign-on under way): AES-256-GCM under a key derived by HKDF-SHA256 from the bytes of the
 * file `web.session.keyfile`, read the way the auth service reads its key-encryption key
 * file. On first start the file is created with 32 random bytes, mode 0600; web replicas on
 * one database must share it (a session sealed by one then opens on the other). The row's
 * id hash is the additional authenticated data, so a sealed value copied onto another
 * session's row does not open.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const VERSION = 'v1';
const INFO = 'dockyard web sessions v1';
/** Fewer bytes than this in the key file is a setup mistake (`openssl rand -base64 32` gives 44). */
const MIN_SECRET_BYTES = 32;

/** Thrown when the key file is unusable. */
export class SessionKeyError extends Error {}

export class SessionSealer {
  private constructor(private readonly key: Buffer) {}

  /** Derives the key from `secret` (the file's bytes, surrounding whitespace ignored). */
  static fromSecret(secret: Buffer, source = 'the session key'): SessionSealer {
    const trimmed = Buffer.from(secret.toString('latin1').trim(), 'latin1');
    if (trimmed.length < MIN_SECRET_BYTES) {
      throw new SessionKeyError(`${source} holds ${trimmed.length} bytes; it needs at least ${MIN_SECRET_BYTES} random bytes (openssl rand -base64 32)`);
    }
    return new SessionSealer(Buffer.from(hkdfSync('sha256', trimmed, Buffer.alloc(0), INFO, 32)));
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
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new SessionKeyError(`cannot create ${setting} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let secret: Buffer;
    try {
      secret = await readFile(path);
    } catch (err) {
      throw new SessionKeyError(`cannot read ${setting} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return SessionSealer.fromSecret(secret, `${setting} ${path}`);
  }

  seal(aad: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  /** The plaintext, or null when the value does not open with this key (another key file, another row, tampered). */
  open(aad: string, sealed: string): string | null {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
