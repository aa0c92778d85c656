/**
 * Byte ranges in both directions: the `Range` request header of a blob download
 * (RFC 9110 §14) and the `Content-Range` of a chunked upload (the distribution spec's
 * non-standard `a-b`, which clients also send as `bytes a-b`).
 */

/** How to answer a download's Range header. */
export type RangeDecision =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^(\d*)-(\d*)$/;

/**
 * Decides how to serve `size` bytes for a Range header. Only one range is served; a
 * header with several ranges, another unit or bad syntax is ignored (a full 200), which
 * RFC 9110 allows. A range that starts at or past the end, or a zero-length suffix, is
 * unsatisfiable (416).
 */
export function decideByteRange(header: string | undefined, size: number): RangeDecision {
  if (!header) return { kind: 'full' };
  const equals = header.indexOf('=');
  if (equals < 0 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return { kind: 'full' };
  const spec = header.slice(equals + 1).trim();
  if (spec.includes(',')) return { kind: 'full' };
  const match = SINGLE_RANGE.exec(spec);
  if (!match) return { kind: 'full' };
  const [, first, last] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    // An empty blob has no byte a Content-Range could name; serve it whole.
    if (size === 0) return { kind: 'full' };
    return { kind: 'partial', start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  // `last < first` is a syntax error, which RFC 9110 says to ignore, not refuse.
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

const UPLOAD_CONTENT_RANGE = /^(?:bytes[ =])?(\d{1,16})-(\d{1,16})(?:\/(?:\d{1,16}|\*))?$/i;

/**
 * Parses an upload chunk's Content-Range (`a-b`, `bytes a-b`, `bytes=a-b`, optionally
 * with `/total`). Returns null when it is malformed or ends before it starts; the
 * caller answers 416 with the session's current Range.
 */
export function parseUploadContentRange(header: string): { start: number; end: number } | null {
  const match = UPLOAD_CONTENT_RANGE.exec(header.trim());
  if (!match) return null;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(end) || end < start) return null;
  return { start, end };
}
