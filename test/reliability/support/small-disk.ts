/**
 * A registry whose blob storage can run out of space on demand. Preferably real: a tmpfs
 * of 8 MiB mounted for the test (needs root) under a registry process, filled with filler
 * files. Where mounting is not permitted, a FaultyDriver with a byte budget under an
 * in-process registry stands in, and the suite says which one it ran.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Workspace } from '../../e2e/harness/workspace.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import { FaultyDriver } from './faulty-driver.js';
import { startInProcessRegistry } from './in-process.js';
import { registryService } from './services.js';

/** A registry on storage that can be made (nearly) full and freed again. */
export interface SmallDisk {
  /** `tmpfs` (a real filesystem under a registry process) or `injected` (FaultyDriver budget). */
  readonly kind: 'tmpfs' | 'injected';
  readonly url: string;
  /** Root directory of the blob store (the layout of storage/paths.ts lies under it). */
  readonly storageRoot: string;
  /** The registry's SQLite file. */
  readonly database: string;
  /** Leaves about `bytes` of free space. */
  leave(bytes: number): void;
  /** Leaves no free space at all. */
  fill(): void;
  /** Frees the space taken by leave()/fill(), as an operator deleting files would. */
  release(): void;
  /** Whether the registry process is still alive. */
  alive(): boolean;
  /** Stops the registry (the disk itself is cleaned up with the workspace). */
  stop(): Promise<void>;
}

const TMPFS_SIZE = '8m';
const FILLER_PIECE = Buffer.alloc(64 * 1024);

/** Writes up to `bytes` into a new file; stops quietly at ENOSPC. */
function writeFiller(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    while (written < bytes) {
      const n = Math.min(FILLER_PIECE.length, bytes - written);
      try {
        written += writeSync(fd, FILLER_PIECE, 0, n);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** Mounts a tmpfs at `dir`; the reason it could not, or null on success. */
function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (err instanceof Error ? err.message : String(err));
  }
}

async function tmpfsDisk(ws: Workspace, mountPoint: string): Promise<SmallDisk> {
  const storageRoot = join(mountPoint, 'store');
  const dataDir = ws.mkdir('small-disk-data');
  const registry = registryService(ws, dataDir, { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: storageRoot }, 'registry-small-disk');
  const url = await registry.start();
  ws.defer('stop registry on the small disk', () => registry.stop());
  let fillers = 0;
  return {
    kind: 'tmpfs',
    url,
    storageRoot,
    database: join(dataDir, 'registry', 'registry.sqlite'),
    leave(bytes) {
      const excess = freeBytes(mountPoint) - bytes;
      if (excess > 0) writeFiller(join(mountPoint, `filler-${fillers++}`), excess);
    },
    fill() {
      writeFiller(join(mountPoint, `filler-${fillers++}`), Number.MAX_SAFE_INTEGER);
    },
    release() {
      for (let i = 0; i < fillers; i++) rmSync(join(mountPoint, `filler-${i}`), { force: true });
    },
    alive: () => registry.running(),
    stop: () => registry.stop(),
  };
}

async function injectedDisk(ws: Workspace): Promise<SmallDisk> {
  const dir = ws.mkdir('injected-disk');
  const storageRoot = join(dir, 'blobs');
  const driver = new FaultyDriver(new FilesystemDriver(storageRoot));
  const registry = await startInProcessRegistry(dir, driver);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await registry.close();
  };
  ws.defer('stop in-process registry', stop);
  return {
    kind: 'injected',
    url: registry.url,
    storageRoot,
    database: registry.database,
    leave: (bytes) => driver.limitSpace(bytes),
    fill: () => driver.limitSpace(0),
    release: () => driver.limitSpace(null),
    alive: () => !stopped && registry.server.listening,
    stop,
  };
}

/** A registry on a real 8 MiB tmpfs when mounting is permitted, else on an injected budget. */
export async function smallDisk(ws: Workspace, log: (line: string) => void): Promise<SmallDisk> {
  const mountPoint = ws.mkdir('small-disk');
  const refused = tryMount(mountPoint);
  if (refused !== null) {
    log(`cannot mount a tmpfs (${refused}); injecting ENOSPC through a FaultyDriver instead`);
    return injectedDisk(ws);
  }
  // Registered before the registry starts, so it runs after the registry stopped (LIFO).
  ws.defer('unmount the small disk', () => {
    execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  });
  log(`blob storage on a real ${TMPFS_SIZE} tmpfs at ${mountPoint}`);
  return tmpfsDisk(ws, mountPoint);
}
