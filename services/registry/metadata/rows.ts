/**
 * What goes into and comes out of the metadata tables: input checks that turn hostile or
 * malformed values into the spec's error codes before they reach SQL, and conversions of
 * rows (which differ by dialect: PostgreSQL returns bigint as a string and timestamps as
 * Date, SQLite returns numbers) into the store's records.
 */
import { fail } from '../../../shared/http/errors.js';
import { parseDigest } from '../../../shared/grammar/reference.js';
import type { ManifestRecord, NewManifest, Page, ReferrerDescriptor } from './store.js';

/** Longest media type / artifact type the schema stores (RFC 6838 allows 127 + 1 + 127). */
export const MEDIA_TYPE_MAX_LENGTH = 255;

/** Which kind of thing a manifest reference row points at. */
export type ReferenceKind = 'blob' | 'manifest';

/** A manifests row as the queries select it. */
export interface ManifestRow {
  id: number;
  repository_id: number;
  digest: string;
  media_type: string;
  size: number | string;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: Date | number | string;
}

/** The manifests columns a referrers listing selects. */
export type ReferrerRow = Pick<ManifestRow, 'digest' | 'media_type' | 'size' | 'artifact_type' | 'annotations'>;

/** Throws DIGEST_INVALID unless `digest` is a supported, well-formed digest; returns it. */
export function checkDigest(digest: string): string {
  return parseDigest(digest).value;
}

/** Throws SIZE_INVALID unless `size` is a non-negative safe integer. */
export function checkSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw fail('SIZE_INVALID', 'size must be a non-negative integer', { size });
  return size;
}

/** Throws PAGINATION_NUMBER_INVALID / REQUEST_INVALID for a page no query should see. */
export function checkPage(page: Page): Page {
  if (!Number.isSafeInteger(page.n) || page.n < 0) {
    throw fail('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer', { n: page.n });
  }
  // PostgreSQL rejects NUL in text parameters; no name or tag can contain one anyway.
  if (page.last !== undefined && page.last.includes('\u0000')) {
    throw fail('REQUEST_INVALID', 'pagination marker contains a NUL character');
  }
  return page;
}

/** True for a string the media type columns can hold (and PostgreSQL can take as a parameter). */
export function isStorableMediaType(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MEDIA_TYPE_MAX_LENGTH && !value.includes('\u0000');
}

function checkMediaType(value: string, field: string): string {
  if (!isStorableMediaType(value)) {
    throw fail('MANIFEST_INVALID', `${field} must be a media type of 1 to ${MEDIA_TYPE_MAX_LENGTH} characters`);
  }
  return value;
}

function checkAnnotations(annotations: Record<string, string> | null): Record<string, string> | null {
  if (annotations === null) return null;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    throw fail('MANIFEST_INVALID', 'annotations must be an object of strings');
  }
  for (const value of Object.values(annotations)) {
    if (typeof value !== 'string') throw fail('MANIFEST_INVALID', 'annotation values must be strings');
  }
  return annotations;
}

/** Validates everything putManifest writes; throws the code a client would get for it. */
export function checkNewManifest(manifest: NewManifest): NewManifest {
  checkDigest(manifest.digest);
  checkMediaType(manifest.mediaType, 'mediaType');
  checkSize(manifest.size);
  if (manifest.artifactType !== null) checkMediaType(manifest.artifactType, 'artifactType');
  if (manifest.subject !== null) checkDigest(manifest.subject);
  checkAnnotations(manifest.annotations);
  manifest.blobs.forEach(checkDigest);
  manifest.manifests.forEach(checkDigest);
  return manifest;
}

/** A manifest_references row. */
export interface ReferenceRow {
  manifest_id: number;
  kind: ReferenceKind;
  digest: string;
}

/** The distinct reference rows of a manifest, in a stable order. */
export function referenceRows(manifestId: number, manifest: NewManifest): ReferenceRow[] {
  const rows = (kind: ReferenceKind, digests: string[]) =>
    [...new Set(digests)].sort().map((digest) => ({ manifest_id: manifestId, kind, digest }));
  return [...rows('blob', manifest.blobs), ...rows('manifest', manifest.manifests)];
}

/** A bigint column as a number (sizes stay far below 2^53). */
export function toNumber(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A timestamp column as a Date: PostgreSQL gives a Date, SQLite the stored epoch milliseconds. */
export function toDate(value: Date | number | string): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return new Date(Number(value));
  return new Date(value);
}

/** Annotations as stored (JSON text) back to an object; anything else reads as none. */
export function parseAnnotations(text: string | null): Record<string, string> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    return value as Record<string, string>;
  } catch {
    return null;
  }
}

/** Annotations as stored: JSON text, or null when there are none. */
export function serializeAnnotations(annotations: Record<string, string> | null): string | null {
  return annotations === null ? null : JSON.stringify(annotations);
}

/** A manifests row as the store's record. */
export function toManifestRecord(repository: string, row: ManifestRow): ManifestRecord {
  return {
    repository,
    digest: row.digest,
    mediaType: row.media_type,
    size: toNumber(row.size),
    artifactType: row.artifact_type,
    subject: row.subject,
    annotations: parseAnnotations(row.annotations),
    createdAt: toDate(row.created_at),
  };
}

/** A manifests row as a referrers-index descriptor; absent fields are omitted, not null. */
export function toReferrer(row: ReferrerRow): ReferrerDescriptor {
  const descriptor: ReferrerDescriptor = { mediaType: row.media_type, digest: row.digest, size: toNumber(row.size) };
  if (row.artifact_type !== null) descriptor.artifactType = row.artifact_type;
  const annotations = parseAnnotations(row.annotations);
  if (annotations !== null) descriptor.annotations = annotations;
  return descriptor;
}
