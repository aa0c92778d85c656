/**
 * The one-time import of a key directory (`auth.keysdir`, the directory store) into the
 * auth database when a host switches to `auth.keystore: database`: the current key, the
 * next one and the retired keys still published, sealed like every database key, so
 * tokens signed before the switch keep verifying and the signer does not change. Runs
 * inside the store's creation transaction (under its lock), only while the table has no
 * current key.
 */
import type { Knex } from 'knex';
import { readKeyDirectory } from '../../../shared/crypto/key-manifest.js';
import { certificateToPem } from '../../../shared/crypto/x509.js';
import type { KeySealer } from './sealing.js';

/** Inserts the keys `dir` still publishes at `now`; returns their kids (none without a manifest). */
export async function importKeyDirectory(trx: Knex.Transaction, sealer: KeySealer, dir: string, now: number): Promise<string[]> {
  const keys = await readKeyDirectory(dir, now);
  if (keys === null || !keys.some((k) => k.role === 'current')) return [];
  const present = new Set((await trx('signing_keys').whereIn('kid', keys.map((k) => k.kid)).select('kid')).map((r: { kid: string }) => r.kid));
  const fresh = keys.filter((k) => !present.has(k.kid));
  for (const key of fresh) {
    await trx('signing_keys').insert({
      kid: key.kid,
      certificate: certificateToPem(key.certificate.raw),
      sealed_private_key: sealer.seal(key.kid, key.privateKey.export({ type: 'pkcs8', format: 'der' })),
      created_at: key.createdAt,
      retain_until: key.retainUntil,
      is_next: key.role === 'next',
    });
  }
  return fresh.map((k) => k.kid);
}
