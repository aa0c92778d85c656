/**
 * `REPO:TAG` and `REPO@DIGEST`, as the lineage API and CLI take an image. Errors carry the
 * registry's codes (NAME_INVALID, TAG_INVALID, DIGEST_INVALID) and never reach SQL.
 */
import { assertName, assertTag, parseDigest } from '../../../shared/grammar/reference.js';

export type ImageReference = { repository: string; tag: string } | { repository: string; digest: string };

/** Parses `REPO:TAG` or `REPO@DIGEST` (a bare `REPO` means `REPO:latest`, as clients read it). */
export function parseImageReference(text: string): ImageReference {
  const at = text.indexOf('@');
  if (at >= 0) return { repository: assertName(text.slice(0, at)), digest: parseDigest(text.slice(at + 1)).value };
  const colon = text.lastIndexOf(':');
  // A colon before the last slash belongs to a host:port, which repository names here never carry.
  if (colon < 0 || colon < text.lastIndexOf('/')) return { repository: assertName(text), tag: 'latest' };
  return { repository: assertName(text.slice(0, colon)), tag: assertTag(text.slice(colon + 1)) };
}

/** The reference part, as resolveImage takes it. */
export function referencePart(image: ImageReference): { tag: string } | { digest: string } {
  return 'tag' in image ? { tag: image.tag } : { digest: image.digest };
}
