/**
 * The signing keys the configuration asks for: the key directory (default, one host) or
 * the auth database (`auth.keystore: database`, replicas on several hosts). The database
 * store imports the key directory once, on the first start that finds no key in the table.
 */
import type { Knex } from 'knex';
import type { AuthServiceConfig } from '../../../shared/config/index.js';
import { KeyStore, type SigningKeys } from '../../../shared/crypto/keys.js';
import { DatabaseKeyStore } from './database-key-store.js';
import { KeySealer } from './sealing.js';

export async function openSigningKeys(
  config: Pick<AuthServiceConfig, 'keysDir' | 'keyStore' | 'keyPublishAheadSeconds'>,
  db: Knex,
  log: { info(fields: object, message: string): void } = { info() {} },
): Promise<SigningKeys> {
  const store = config.keyStore ?? { kind: 'directory' };
  const publishAheadSeconds = config.keyPublishAheadSeconds;
  if (store.kind === 'directory') return KeyStore.open(config.keysDir, { publishAheadSeconds });
  return DatabaseKeyStore.open(db, await KeySealer.fromFile(store.encryptionKeyFile, 'auth.keyencryptionkeyfile'), {
    publishAheadSeconds,
    importFrom: config.keysDir,
    onImport: (kids) => log.info({ kids, keysDir: config.keysDir }, 'imported the signing keys of the key directory into the database (auth.keystore: database)'),
  });
}
