/**
 * Driver paths ↔ S3 keys. `/a/b` lives at `<rootdirectory>/a/b`; a "directory" is a key
 * prefix ending in `/`. A suspended writer keeps its state at `<key>/.writer`: a name
 * starting with a dot is never a valid path component, so list() can hide it and no real
 * object can collide with it.
 */
import { checkPath } from '../../driver.js';

export const WRITER_STATE_NAME = '.writer';

/** Maps paths under a root prefix (`rootdirectory` without leading or trailing slashes). */
export class KeySpace {
  private readonly prefix: string;

  constructor(rootDirectory: string) {
    const trimmed = rootDirectory.replace(/^\/+|\/+$/g, '');
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
  }

  /** Key of the object at path. */
  key(path: string): string {
    checkPath(path);
    return this.prefix + path.slice(1);
  }

  /** Prefix of every key below path (`` for the root without a rootdirectory). */
  dirPrefix(path: string): string {
    checkPath(path);
    return path === '/' ? this.prefix : `${this.prefix}${path.slice(1)}/`;
  }

  /** Key of the suspended-writer state of the object at path. */
  writerStateKey(path: string): string {
    return `${this.key(path)}/${WRITER_STATE_NAME}`;
  }

  /** Path of a key this space produced (for list results). */
  pathOf(key: string): string {
    return `/${key.slice(this.prefix.length).replace(/\/$/, '')}`;
  }
}
