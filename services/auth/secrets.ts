/**
 * Random secrets (robot secrets, refresh tokens, generated passwords) and their stored
 * form. Secrets are 32 random bytes in base64url; only their SHA-256 is stored, which is
 * enough because they are uniformly random (no dictionary to attack, so no bcrypt needed).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url (43 characters). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a secret as lowercase hex (the stored form). */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two SHA-256 hex strings in constant time. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}
