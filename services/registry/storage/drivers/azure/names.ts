/**
 * Driver paths ↔ blob names. `/a/b` lives at `<rootdirectory>/a/b`; a "directory" is a
 * name prefix ending in `/` (Azure lists by that delimiter).
 */
import { checkPath } from '../../driver.js';

export class BlobNames {
  private readonly prefix: string;

  constructor(rootDirectory: string) {
    const trimmed = rootDirectory.replace(/^\/+|\/+$/g, '');
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
  }

  /** Name of the blob at path. */
  name(path: string): string {
    checkPath(path);
    return this.prefix + path.slice(1);
  }

  /** Prefix of every blob below path (`` for the root without a rootdirectory). */
  dirPrefix(path: string): string {
    checkPath(path);
    return path === '/' ? this.prefix : `${this.prefix}${path.slice(1)}/`;
  }

  /** Path of a name (or listed prefix) this space produced. */
  pathOf(name: string): string {
    return `/${name.slice(this.prefix.length).replace(/\/$/, '')}`;
  }
}
