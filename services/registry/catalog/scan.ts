/**
 * How one repository pattern walks the name index. Names are compared byte by byte, and
 * every name sharing a prefix P lies in one contiguous stretch [P, successor(P)). A
 * pattern's literal leading segments give the stretch to walk; inside it, a name that
 * fails the pattern usually rules out a whole stretch after it (all names below a segment
 * that is too deep, or before the next one that carries the wanted literal), so the walk
 * seeks past that stretch instead of reading it. What is read is then bounded by what
 * matches plus one probe per skipped stretch, not by the names the pattern cannot see.
 */
import type { NameRange } from '../metadata/store.js';

/** What to do after looking at a name: it matches; seek to `seek` (inclusive); or just read on. */
export type ScanStep = { kind: 'match' } | { kind: 'seek'; seek: string } | { kind: 'next' } | { kind: 'end' };

/**
 * The least string after every string that starts with `prefix` (`prefix` ends with `/`, so
 * its last character is incremented: `team/` → `team0`).
 */
function successor(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The stretch of the name index that can hold matches of `pattern` (well-formed, with a
 * wildcard: exact names are looked up, not walked), bounded by its literal leading segments.
 */
export function patternRange(pattern: string): NameRange {
  const segments = pattern.split('/');
  const wild = segments.findIndex((s) => s === '*' || s === '**');
  if (wild <= 0) return {};
  const prefix = `${segments.slice(0, wild).join('/')}/`;
  return { start: { name: prefix, inclusive: true }, before: successor(prefix) };
}

/**
 * The step after `name` for `pattern`. Reasoning for each skip: all names strictly between
 * `name` and the seek target share `name`'s leading segments up to the failing one, and so
 * fail the same way.
 */
export function scanStep(pattern: string, name: string): ScanStep {
  const want = pattern.split('/');
  const have = name.split('/');
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment === '**') return have.length > i ? { kind: 'match' } : { kind: 'next' };
    // Too shallow: a longer name sorting later (`a-b/c` after `a`) may still match.
    if (i >= have.length) return { kind: 'next' };
    if (segment === '*' || segment === have[i]) continue;
    // Segment i is the wrong literal. The next name that can carry it is `Q<literal>[/]`
    // when that sorts after `name`; otherwise nothing under Q can any more.
    const q = i === 0 ? '' : `${have.slice(0, i).join('/')}/`;
    const target = `${q}${segment}${i < want.length - 1 ? '/' : ''}`;
    if (target > name) return { kind: 'seek', seek: target };
    return q === '' ? { kind: 'end' } : { kind: 'seek', seek: successor(q) };
  }
  if (have.length === want.length) return { kind: 'match' };
  // Too deep: every name below these leading segments is too deep as well.
  return { kind: 'seek', seek: successor(`${have.slice(0, want.length).join('/')}/`) };
}
