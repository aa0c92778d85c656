/**
 * Decoding a manifest body as JSON without trusting it: strict UTF-8, and a nesting
 * bound checked by a linear scan BEFORE JSON.parse, so no later walk of the value (ours
 * or a library's) can overflow the stack on a deeply nested body.
 */
import { fail } from '../../../shared/http/errors.js';

/** Real manifests nest five levels deep (index → manifests → descriptor → platform → features). */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Deepest nesting of objects and arrays in JSON text (strings are skipped), stopping early past `limit`. */
export function jsonDepth(bytes: Uint8Array, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses a manifest body; MANIFEST_INVALID for bad UTF-8, nesting deeper than MAX_JSON_DEPTH, or bad JSON. */
export function parseManifestJson(bytes: Buffer): unknown {
  if (jsonDepth(bytes, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw fail('MANIFEST_INVALID', `manifest JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw fail('MANIFEST_INVALID', 'manifest is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fail('MANIFEST_INVALID', 'manifest is not valid JSON', { reason: (err as Error).message.slice(0, 200) });
  }
}
