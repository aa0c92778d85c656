/** `auth.keystore` and `auth.keyencryptionkeyfile`: where the auth service keeps its signing keys. */
import { SETTINGS } from './settings.js';
import type { ConfigSource } from './source.js';
import { ConfigError, type AuthServiceConfig } from './types.js';

export function buildKeyStore(src: ConfigSource): NonNullable<AuthServiceConfig['keyStore']> {
  const s = SETTINGS.auth;
  const kind = src.string(s.keyStore);
  const file = src.path(s.keyEncryptionKeyFile);
  if (kind === 'directory') {
    if (file !== undefined) throw new ConfigError(src.name(s.keyEncryptionKeyFile), `no value unless ${src.name(s.keyStore)} is database`, file);
    return { kind: 'directory' };
  }
  if (kind !== 'database') throw new ConfigError(src.name(s.keyStore), 'directory or database', kind);
  if (file === undefined) {
    throw new ConfigError(src.name(s.keyEncryptionKeyFile), 'a file path', undefined, `${src.name(s.keyEncryptionKeyFile)} is required when ${src.name(s.keyStore)} is database`);
  }
  return { kind: 'database', encryptionKeyFile: file };
}
