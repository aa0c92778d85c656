/**
 * The files that must stay the owner's alone (data directory, databases with password and
 * refresh-token hashes, signing keys): Dockyard creates them 0700/0600, and every start
 * checks them again, because an operator's `chmod -R a+r` or a restore from a backup can
 * loosen them. A loose one gets a warning naming it (the start goes on: refusing would turn
 * a backup restore into an outage, and the operator may have reasons, e.g. a group-read
 * backup agent).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseConfig } from '../db/index.js';

/** A SQLite database on disk and the -wal/-shm files beside it. */
export function sqliteFiles(database: DatabaseConfig): string[] {
  if (database.client !== 'sqlite' || database.filename === ':memory:' || database.filename.startsWith('file:')) return [];
  return [database.filename, `${database.filename}-wal`, `${database.filename}-shm`];
}

/** The private keys in a key directory (`*.key`), or none when it does not exist yet. */
export function keyFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.key'))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** One warning per existing path that others than its owner may read, write or enter. */
export function loosePermissionWarnings(paths: readonly string[]): string[] {
  const warnings: string[] = [];
  for (const path of paths) {
    let mode: number;
    let directory: boolean;
    try {
      const info = statSync(path);
      mode = info.mode & 0o777;
      directory = info.isDirectory();
    } catch {
      continue; // not created yet (or gone): nothing to protect
    }
    if ((mode & 0o077) === 0) continue;
    const wanted = directory ? '700' : '600';
    warnings.push(`WARNING: ${path} has mode ${mode.toString(8).padStart(4, '0')}: others than its owner can access it; run: chmod ${wanted} ${path}`);
  }
  return warnings;
}
