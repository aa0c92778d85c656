/**
 * The catalog a caller may see: every repository matching one of the patterns its token
 * carries (the auth service's pull grants, `${user}` resolved), in byte order, paged with
 * `n` and `last` like the full catalog. Exact names are one indexed lookup; each wildcard
 * pattern is an index walk of its own prefix stretch that seeks past what it cannot match
 * (scan.ts); the per-pattern pages are merged. The cost of a page is bounded by the number
 * of patterns, the page size and the stretches skipped, never by how many repositories
 * the caller may not see. An optional name prefix (the web UI's search) narrows every
 * walk to the stretch of names carrying it, so a search costs no more than a page.
 */
import { compareNames } from '../../../shared/grammar/reference.js';
import type { MetadataStore, NameRange, Page } from '../metadata/store.js';
import { patternRange, scanStep } from './scan.js';

function isExact(pattern: string): boolean {
  return !pattern.split('/').some((s) => s === '*' || s === '**');
}

/** Every name starting with `prefix`: [prefix, prefix with its last character incremented). */
export function prefixRange(prefix: string): NameRange {
  if (prefix === '') return {};
  return { start: { name: prefix, inclusive: true }, before: prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1) };
}

/** The names in both stretches. */
function intersect(a: NameRange, b: NameRange): NameRange {
  let start = a.start ?? b.start;
  if (a.start && b.start && (b.start.name > a.start.name || (b.start.name === a.start.name && !b.start.inclusive))) start = b.start;
  const before = a.before === undefined ? b.before : b.before === undefined ? a.before : a.before < b.before ? a.before : b.before;
  return { ...(start ? { start } : {}), ...(before === undefined ? {} : { before }) };
}

/** The later of the pattern's own start and the page's `last` (exclusive). */
function startAfter(range: NameRange, last: string | undefined): NameRange['start'] {
  if (last === undefined) return range.start;
  if (range.start === undefined || last >= range.start.name) return { name: last, inclusive: false };
  return range.start;
}

/**
 * Rows asked for right after a seek. Batches double while names keep matching and shrink
 * back after a skip, so the names read past a skip (and thrown away) stay this few.
 */
const FIRST_BATCH = 4;

/** Up to `n` names matching the wildcard `pattern`, strictly after `last`, in byte order. */
async function matchesOf(store: MetadataStore, pattern: string, last: string | undefined, n: number, within: NameRange): Promise<string[]> {
  const range = intersect(patternRange(pattern), within);
  let start = startAfter(range, last);
  let batchSize = FIRST_BATCH;
  const found: string[] = [];
  while (found.length < n) {
    if (start && range.before !== undefined && start.name >= range.before) break;
    const wanted = Math.min(n - found.length, batchSize);
    const batch = await store.listRepositoryRange({ ...(start ? { start } : {}), ...(range.before === undefined ? {} : { before: range.before }) }, wanted);
    let seek: string | null = null;
    for (const name of batch) {
      if (seek !== null && name < seek) continue;
      seek = null;
      const step = scanStep(pattern, name);
      if (step.kind === 'match') found.push(name);
      else if (step.kind === 'end') return found;
      else if (step.kind === 'seek') seek = step.seek;
    }
    // A short batch means the stretch is exhausted, whatever a pending seek says.
    if (batch.length < wanted) break;
    start = seek !== null ? { name: seek, inclusive: true } : { name: batch[batch.length - 1]!, inclusive: false };
    batchSize = seek !== null ? FIRST_BATCH : batchSize * 2;
  }
  return found;
}

/** Names in every list, each once, in byte order, at most `n`. */
function mergePages(pages: readonly string[][], n: number): string[] {
  return [...new Set(pages.flat())].sort(compareNames).slice(0, n);
}

/** One catalog page of the repositories matching `patterns` (and starting with `prefix`; see the module comment). */
export async function listVisibleRepositories(store: MetadataStore, patterns: readonly string[], page: Page, prefix = ''): Promise<string[]> {
  if (page.n === 0 || patterns.length === 0) return [];
  const exact = patterns.filter((p) => isExact(p) && p.startsWith(prefix));
  const within = prefixRange(prefix);
  const pages: string[][] = [];
  if (exact.length > 0) pages.push((await store.listRepositoriesNamed(exact, page.last)).slice(0, page.n));
  for (const pattern of patterns) {
    if (!isExact(pattern)) pages.push(await matchesOf(store, pattern, page.last, page.n, within));
  }
  return mergePages(pages, page.n);
}

/** One page of every repository starting with `prefix` (a caller whose grant covers the whole catalog). */
export async function listAllRepositories(store: MetadataStore, page: Page, prefix: string): Promise<string[]> {
  if (prefix === '') return store.listRepositories(page);
  const range = prefixRange(prefix);
  const start = page.last !== undefined && page.last >= prefix ? { name: page.last, inclusive: false } : range.start;
  return store.listRepositoryRange({ ...(start ? { start } : {}), ...(range.before === undefined ? {} : { before: range.before }) }, page.n);
}
