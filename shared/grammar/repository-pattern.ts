/**
 * Repository name patterns: `/`-separated segments, each a name component (exactly that
 * segment), `*` (exactly one segment of any name) or, as the last segment only, `**` (one
 * or more segments). The auth service's grants are written in this grammar (plus its
 * `${user}` placeholder, resolved before a pattern leaves the service); the registry lists
 * the catalog through the patterns a token carries. Both sides match with this one function.
 */
import { NAME_COMPONENT_PATTERN } from './reference.js';

/**
 * The JWT claim in which the auth service lists the patterns a token's holder may pull,
 * next to the `registry:catalog:list` access entry (see docs/api-auth.md).
 */
export const CATALOG_CLAIM = 'dockyard_catalog';
/**
 * The action of `registry:catalog` that lists only the claim's patterns. Not `*`: a
 * registry that does not read the claim (CNCF distribution trusting our tokens) must not
 * take it for the whole catalog, and distribution requires `*` there.
 */
export const CATALOG_LIST_ACTION = 'list';
/** Most patterns a catalog claim may hold; the auth service grants no catalog beyond it. */
export const CATALOG_PATTERNS_MAX = 256;
/** Most characters of all a claim's patterns together, so the token stays well inside an HTTP header. */
export const CATALOG_CLAIM_MAX_CHARS = 4096;

/** Longest pattern accepted (a repository name is at most 255 characters). */
export const PATTERN_MAX_LENGTH = 255;

/** True when `pattern` follows the grammar above. */
export function isRepositoryPattern(pattern: string): boolean {
  if (pattern.length === 0 || pattern.length > PATTERN_MAX_LENGTH) return false;
  const segments = pattern.split('/');
  return segments.every((segment, i) => (segment === '**' ? i === segments.length - 1 : segment === '*' || NAME_COMPONENT_PATTERN.test(segment)));
}

/** True when repository `name` matches `pattern` (both assumed well-formed). */
export function matchesPattern(pattern: string, name: string): boolean {
  const want = pattern.split('/');
  const have = name.split('/');
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    if (segment === '**') return have.length > i;
    if (i >= have.length) return false;
    if (segment !== '*' && segment !== have[i]) return false;
  }
  return want.length === have.length;
}

/**
 * True when every name `inner` matches is also matched by `outer` (so a list holding both
 * needs only `outer`): segment by segment, `**` covers any non-empty rest, `*` covers a
 * literal or `*`, a literal only itself.
 */
export function patternCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const i = inner.split('/');
  for (let k = 0; k < o.length; k++) {
    if (o[k] === '**') return i.length > k;
    if (k >= i.length || i[k] === '**') return false;
    if (o[k] !== '*' && o[k] !== i[k]) return false;
  }
  return o.length === i.length;
}
