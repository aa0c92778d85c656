/**
 * The signing keys the configuration asks for: the key directory (default, one host) or
 * the auth database (`auth.keystore: database`, replicas on several hosts).
 */
import type { Knex } from 'knex';
import type { AuthServiceConfig } from '../../../shared/config/index.js';
import { KeyStore, type SigningKeys } from '../../../shared/crypto/keys.js';
import { DatabaseKeyStore } from './database-key-store.js';
import { KeySealer } from './sealing.js';

export async function openSigningKeys(config: Pick<AuthServiceConfig, 'keysDir' | 'keyStore'>, db: Knex): Promise<SigningKeys> {
  const store = config.keyStore ?? { kind: 'directory' };
  if (store.kind === 'directory') return KeyStore.open(config.keysDir);
  return DatabaseKeyStore.open(db, await KeySealer.fromFile(store.encryptionKeyFile, 'auth.keyencryptionkeyfile'));
}
