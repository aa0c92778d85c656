/**
 * Segments of static large objects, and who owns them. A writer uploads its segments as
 * `<prefix>.segments/<set>/<n>`, where the set is `<path>/<random>` (the path the writer
 * writes, so deleting that path finds even the segments of a writer that was killed before
 * it recorded anything; one set per writer, kept across suspend and resume). The object
 * itself is an SLO manifest listing them, tagged with its set in the
 * `X-Object-Meta-Dockyard-Segments` header.
 *
 * move() copies only the manifest, so for a moment two objects reference one set. Which
 * of them may delete the segments is recorded once, in `<prefix>.segments/<set>/owner`
 * (the owning object's name), written BEFORE the manifest is copied: a crash between the
 * copy and the removal of the source then leaves the source not owning the set, and
 * purging an abandoned upload can never delete the segments of a blob. The worst a crash
 * does is leave unowned segments behind (garbage, never a broken blob).
 */
import { randomUUID } from 'node:crypto';
import { PathNotFoundError } from '../../driver.js';
import type { SwiftClient } from './client.js';
import { header } from './client.js';

export const SEGMENTS_HEADER = 'x-object-meta-dockyard-segments';
const OWNER = 'owner';

export interface SegmentRef {
  etag: string;
  size: number;
}

export class Segments {
  constructor(
    private readonly client: SwiftClient,
    /** The object prefix (`` or `root/`). */
    private readonly root: string,
  ) {}

  dir(set: string): string {
    return `${this.root}.segments/${set}/`;
  }

  name(set: string, index: number): string {
    return `${this.dir(set)}${String(index + 1).padStart(8, '0')}`;
  }

  /** The SLO manifest body for these segments, in order. */
  manifest(set: string, segments: readonly SegmentRef[]): string {
    return JSON.stringify(segments.map((s, i) => ({ path: this.client.objectPath(this.name(set, i)), etag: s.etag, size_bytes: s.size })));
  }

  /** Records `key` as the object that may delete the set. */
  async claim(path: string, set: string, key: string): Promise<void> {
    await this.client.done('PUT', path, { method: 'PUT', object: this.dir(set) + OWNER, body: key });
  }

  /** The set an object's headers name, if it is one of our SLOs. */
  setOf(headers: Record<string, string | string[] | undefined>): string | undefined {
    return header(headers, SEGMENTS_HEADER);
  }

  /**
   * Deletes the set's objects unless another object than `claimant` owns it. A set nobody
   * claimed yet belongs to the suspended writer that made it, i.e. to `claimant`.
   */
  async release(path: string, set: string, claimant: string): Promise<void> {
    const owner = await this.ownerOf(path, set);
    if (owner !== undefined && owner !== claimant) return;
    await this.deleteAll(path, this.dir(set), [OWNER]);
  }

  /** The object that owns the set, or undefined while no object claimed it. */
  async ownerOf(path: string, set: string): Promise<string | undefined> {
    try {
      const response = await this.client.ok('GET', path, { method: 'GET', object: this.dir(set) + OWNER });
      return await response.body.text();
    } catch (err) {
      if (err instanceof PathNotFoundError) return undefined;
      throw err;
    }
  }

  /** A new set for a writer of `path` (a driver path). */
  newSet(path: string): string {
    return `${path.slice(1)}/${randomUUID()}`;
  }

  /**
   * Releases every set made by writers of `path` or of paths below it, on behalf of the
   * objects there (which the caller deletes): what killed writers left, and what finished
   * ones still own. Sets handed to another object by a move stay.
   */
  async sweep(path: string): Promise<void> {
    const base = `${this.root}.segments/${path.slice(1)}/`;
    const sets = new Set<string>();
    for (const name of await listNames(this.client, path, base)) sets.add(name.slice(`${this.root}.segments/`.length, name.lastIndexOf('/')));
    for (const set of sets) await this.release(path, set, this.root + set.slice(0, set.lastIndexOf('/')));
  }

  /** Deletes every object under `prefix`, the names in `last` (relative to it) after the rest. */
  async deleteAll(path: string, prefix: string, last: readonly string[] = []): Promise<void> {
    const names = await listNames(this.client, path, prefix);
    const late = new Set(last.map((n) => prefix + n));
    for (const name of [...names.filter((n) => !late.has(n)), ...names.filter((n) => late.has(n))]) {
      await deleteIfPresent(this.client, path, name);
    }
  }
}

/** Every object name under a prefix (all pages). */
export async function listNames(client: SwiftClient, path: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let marker = '';
  for (;;) {
    const response = await client.ok('GET', path, { method: 'GET', query: { format: 'json', prefix, marker, limit: '1000' } });
    const page = (await response.body.json()) as Array<{ name: string }>;
    for (const entry of page) names.push(entry.name);
    if (page.length < 1000) return names;
    marker = page[page.length - 1].name;
  }
}

export async function deleteIfPresent(client: SwiftClient, path: string, object: string, query?: Record<string, string>): Promise<void> {
  try {
    await client.done('DELETE', path, { method: 'DELETE', object, query });
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
  }
}
