/**
 * Endpoint secrets. A receiver checks `Dockyard-Signature: sha256=<hex HMAC-SHA256 of the
 * body>` with the secret it shares with the registry, so the registry must keep the secret
 * itself, not a hash. It is stored sealed (AES-256-GCM) under a key that lives in a file
 * beside the database, not in it (`<datadir>/registry/notifications.key`, mode 0600,
 * created on first use): a copy of the database or a backup of it alone does not reveal
 * the secrets. Replicas on several hosts need the same key file (docs/security.md).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1:';

/** The file holding the sealing key, under the registry's part of the data directory. */
export function notificationKeyPath(dataDir: string): string {
  return join(dataDir, 'registry', 'notifications.key');
}

/** Seals and opens endpoint secrets with one key. */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error('notification key: expected 32 bytes');
  }

  /** Reads the key file, creating it (0600, random key) when it does not exist yet. */
  static forFile(path: string): SecretBox {
    try {
      return new SecretBox(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    mkdirSync(dirname(path), { recursive: true });
    const key = randomBytes(KEY_BYTES);
    try {
      // wx: a second process creating it at the same moment keeps the first one's key.
      writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return SecretBox.forFile(path);
    }
    return new SecretBox(key);
  }

  seal(secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return FORMAT + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
  }

  /** The secret; throws when it was sealed under another key (a replica without the shared key file). */
  open(sealed: string): string {
    if (!sealed.startsWith(FORMAT)) throw new Error('notification secret: unknown format');
    const raw = Buffer.from(sealed.slice(FORMAT.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('notification secret: cannot be opened with this registry\'s notifications.key (copy the key file from the host that stored it)');
    }
  }
}

/** The signature header's value for `body`. */
export function signatureOf(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
