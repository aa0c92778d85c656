/**
 * The shape of a personal access token: `dyat_` + a 12-character public lookup id + a
 * 43-character random secret (base64url). The lookup id finds the row without comparing
 * secrets in SQL; the SHA-256 of the whole token is then compared in constant time. The
 * prefix lets a secret scanner recognise a leaked token, and the authenticator tell one
 * from a password without a database read.
 */
import { randomBytes } from 'node:crypto';
import { randomSecret } from '../secrets.js';

export const ACCESS_TOKEN_PREFIX = 'dyat_';
const LOOKUP_LENGTH = 12;
const SHAPE = /^dyat_[A-Za-z0-9_-]{55}$/;

/** A new token and its lookup id. */
export function newAccessToken(): { token: string; lookupId: string } {
  const lookupId = randomBytes(9).toString('base64url');
  return { token: `${ACCESS_TOKEN_PREFIX}${lookupId}${randomSecret()}`, lookupId };
}

/** The lookup id of a string shaped like a token, or null. */
export function lookupIdOf(candidate: string): string | null {
  return SHAPE.test(candidate) ? candidate.slice(ACCESS_TOKEN_PREFIX.length, ACCESS_TOKEN_PREFIX.length + LOOKUP_LENGTH) : null;
}
