/**
 * The OCI grammar for repository names, tags and digests, in one place. Every value that
 * reaches storage or SQL has passed one of these checks, so no path or query ever sees a
 * raw client string.
 */
import { fail } from '../http/errors.js';

/** Repository name: lowercase components separated by `/` (OCI distribution spec). */
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
/** One `/`-separated component of a repository name. */
export const NAME_COMPONENT_PATTERN = new RegExp(`^${NAME_COMPONENT}$`);
export const NAME_PATTERN = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
export const NAME_MAX_LENGTH = 255;

/** Byte order of repository names, the order every listing uses (names are ASCII, so code units are bytes). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Digest algorithms this registry computes and verifies, with their encoded length in hex. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** General digest grammar from the OCI image spec: `algorithm:encoded`. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A validated digest. `encoded` is lowercase hex of the algorithm's length. */
export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly encoded: string;
  /** `algorithm:encoded` */
  readonly value: string;
}

export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= NAME_MAX_LENGTH && NAME_PATTERN.test(name);
}

/** Throws NAME_INVALID unless `name` is a valid repository name. */
export function assertName(name: string): string {
  if (!isValidName(name)) throw fail('NAME_INVALID', 'invalid repository name', { name: name.slice(0, 300) });
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/** Throws TAG_INVALID unless `tag` is a valid tag. */
export function assertTag(tag: string): string {
  if (!isValidTag(tag)) throw fail('TAG_INVALID', 'invalid tag', { tag: tag.slice(0, 200) });
  return tag;
}

/** Parses a digest string; returns null when it is malformed or uses an unsupported algorithm. */
export function tryParseDigest(value: string): Digest | null {
  if (value.length > 200 || !DIGEST_GRAMMAR.test(value)) return null;
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  if (!Object.hasOwn(DIGEST_ALGORITHMS, algorithm)) return null;
  const length = DIGEST_ALGORITHMS[algorithm as DigestAlgorithm];
  if (encoded.length !== length || !/^[0-9a-f]+$/.test(encoded)) return null;
  return { algorithm: algorithm as DigestAlgorithm, encoded, value };
}

/** Parses a digest or throws DIGEST_INVALID. */
export function parseDigest(value: string): Digest {
  const digest = tryParseDigest(value);
  if (!digest) throw fail('DIGEST_INVALID', 'invalid digest', { digest: value.slice(0, 200) });
  return digest;
}

/** True when the string looks like a digest (has the digest grammar), valid or not. */
export function looksLikeDigest(value: string): boolean {
  return value.includes(':');
}
