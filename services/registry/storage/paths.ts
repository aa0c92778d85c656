/**
 * The one place storage paths are built. Nothing else concatenates storage paths, so the
 * layout below is the whole truth about what lives where in a StorageDriver:
 *
 *   /blobs/<algorithm>/<first 2 hex of encoded>/<encoded>/data
 *       Blob bytes, content-addressed and shared by every repository. A repository sees
 *       a blob only through a link in the metadata store. The 2-hex fan-out keeps
 *       directories small on filesystems.
 *   /uploads/<id>/info.json
 *       An upload session: {"repository","owner","startedAt"} (JSON). Written once at
 *       start; the session exists exactly when this file does.
 *   /uploads/<id>/data
 *       Bytes received so far for that session (absent until the first byte arrives).
 *   /imports/<source>/progress.json
 *       The progress record of an import of a registry:2 store (`<source>`: 16 hex of
 *       the SHA-256 of the store's path): the repositories already complete.
 *   /imports/<source>/scratch/<random>
 *       A blob being copied and verified; moved to /blobs when its digest matches.
 *   /gc-trash/<batch>/<algorithm>-<encoded>
 *       A blob directory the garbage collector moved out of /blobs inside a deleting
 *       transaction (`<batch>`: 16 hex, one per page), removed once that transaction is
 *       durable; a crash leaves it for the next run to put back (lifecycle/gc-trash.ts).
 *
 * `<id>` is a random UUID v4 in lowercase. Repository names never become paths: they are
 * client strings, and keeping them out of the layout is what makes cross-repository
 * mounts free and path tricks impossible.
 */
import { tryParseDigest, type Digest } from '../../../shared/grammar/reference.js';

const BLOBS_ROOT = '/blobs';
const UPLOADS_ROOT = '/uploads';
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Directory holding everything stored for one blob. */
export function blobDirectory(digest: Digest): string {
  return `${BLOBS_ROOT}/${digest.algorithm}/${digest.encoded.slice(0, 2)}/${digest.encoded}`;
}

/** Directory holding every blob (the garbage collector's storage sweep walks it). */
export function blobsRoot(): string {
  return BLOBS_ROOT;
}

/** The digest a blob directory (as blobDirectory builds it) belongs to, or null for anything else. */
export function digestOfBlobDirectory(path: string): Digest | null {
  const parts = path.split('/');
  if (parts.length !== 5 || parts[0] !== '' || `/${parts[1]}` !== BLOBS_ROOT) return null;
  const [, , algorithm, prefix, encoded] = parts as [string, string, string, string, string];
  const digest = tryParseDigest(`${algorithm}:${encoded}`);
  return digest && encoded.startsWith(prefix) && prefix.length === 2 ? digest : null;
}

/** Path of a blob's bytes. */
export function blobDataPath(digest: Digest): string {
  return `${blobDirectory(digest)}/data`;
}

/** Directory holding every upload session. */
export function uploadsRoot(): string {
  return UPLOADS_ROOT;
}

/** True when `id` has the shape of an upload id (lowercase UUID v4). */
export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}

function checkedUploadId(id: string): string {
  if (!isUploadId(id)) throw new TypeError('not an upload id');
  return id;
}

/** Directory of one upload session. */
export function uploadDirectory(id: string): string {
  return `${UPLOADS_ROOT}/${checkedUploadId(id)}`;
}

/** Path of the bytes received so far for an upload session. */
export function uploadDataPath(id: string): string {
  return `${uploadDirectory(id)}/data`;
}

/** Path of an upload session's metadata. */
export function uploadInfoPath(id: string): string {
  return `${uploadDirectory(id)}/info.json`;
}

/** Directory of everything one import of a registry:2 store keeps (`source`: 16 hex). */
export function importDirectory(source: string): string {
  if (!/^[0-9a-f]{16}$/.test(source)) throw new TypeError('not an import source key');
  return `/imports/${source}`;
}

/** Path of an import's progress record. */
export function importProgressPath(source: string): string {
  return `${importDirectory(source)}/progress.json`;
}

/** Directory of an import's blobs in flight (removed at the start of every run). */
export function importScratchDirectory(source: string): string {
  return `${importDirectory(source)}/scratch`;
}

const GC_TRASH_ROOT = '/gc-trash';
const GC_TRASH_BATCH = /^[0-9a-f]{16}$/;

/** Directory of the garbage collector's trash (only on stores that can rename). */
export function gcTrashRoot(): string {
  return GC_TRASH_ROOT;
}

/** Directory of one batch of trash (`batch`: 16 hex). */
export function gcTrashBatchDirectory(batch: string): string {
  if (!GC_TRASH_BATCH.test(batch)) throw new TypeError('not a trash batch key');
  return `${GC_TRASH_ROOT}/${batch}`;
}

/** Where a blob's directory goes in a batch of trash. */
export function gcTrashPath(batch: string, digest: Digest): string {
  return `${gcTrashBatchDirectory(batch)}/${digest.algorithm}-${digest.encoded}`;
}

/** The digest of a trash entry (as gcTrashPath builds it), or null for anything else. */
export function digestOfGcTrashPath(path: string): Digest | null {
  const parts = path.split('/');
  if (parts.length !== 4 || parts[0] !== '' || `/${parts[1]}` !== GC_TRASH_ROOT || !GC_TRASH_BATCH.test(parts[2]!)) return null;
  const name = parts[3]!;
  const dash = name.indexOf('-');
  return dash > 0 ? tryParseDigest(`${name.slice(0, dash)}:${name.slice(dash + 1)}`) : null;
}
