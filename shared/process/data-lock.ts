/**
 * One process serves a service's part of the data directory: each service holds a lock
 * file in its own subdirectory (`<datadir>/registry/registry.lock`, `<datadir>/auth/auth.lock`)
 * for as long as it runs. The registry and the auth service may share a data directory
 * (they are two processes under `npm run registry` + `npm run auth`), but two registries or
 * two auth services on one directory would bypass each other's in-memory upload locks and
 * caches, so the second start is refused, naming the directory and the holder's pid. The
 * admin CLI takes no lock: it works beside a running service on purpose. A cluster's
 * primary holds the lock for its workers.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { acquirePidLock, LockHeldError, type PidLock } from './pid-lock.js';

/** A service's subdirectory of the data directory. */
export interface ServiceDirectory {
  /** `registry` or `auth`: names the subdirectory and the lock file. */
  service: string;
  dataDir: string;
}

/** The data directory is being served by another running process. */
export class DataDirectoryInUseError extends Error {
  constructor(dir: string, lockPath: string, pid: number) {
    super(`data directory ${dir} is already in use by process ${pid} (lock file ${lockPath}); stop that process first, or give this one another DOCKYARD_DATA_DIR`);
    this.name = 'DataDirectoryInUseError';
  }
}

/** Takes the lock of every directory (in order); returns the release of all of them. */
export async function lockServiceDirectories(directories: readonly ServiceDirectory[]): Promise<() => Promise<void>> {
  const held: PidLock[] = [];
  const releaseAll = async () => {
    for (const lock of held.splice(0).reverse()) await lock.release();
  };
  try {
    for (const { service, dataDir } of directories) {
      const dir = join(dataDir, service);
      // 0700 applies to every directory this creates, the data directory included.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, `${service}.lock`);
      try {
        held.push(await acquirePidLock(path));
      } catch (err) {
        if (err instanceof LockHeldError) throw new DataDirectoryInUseError(dataDir, path, err.pid);
        throw err;
      }
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }
  return releaseAll;
}
