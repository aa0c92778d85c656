/**
 * What the registry's admin command lines (events/cli.ts for `images`, lifecycle/cli.ts for
 * `gc`, `rules`, `quotas`, `retention`) share: the usage error, the refusal to run on a
 * registry database that does not exist, the mapping of failures to exit codes, and the
 * entry point. Both are reached through `npm run admin`, which runs them as child processes.
 */
import { existsSync } from 'node:fs';
import { ConfigError, type RegistryConfig } from '../../shared/config/index.js';
import { isDockyardError } from '../../shared/http/errors.js';
import { isEntryPoint } from '../../shared/process/entry-point.js';

/** A mistake in how a command was called (exit code 2, usage printed). */
export class UsageError extends Error {}

/** Where a command writes. */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * False (with the reason written) when the configuration names an SQLite file that does not
 * exist: a wrong data dir must say so, not create an empty registry database and work on it.
 */
export function registryDatabaseExists(config: RegistryConfig, io: CommandIo): boolean {
  const { database } = config;
  if (database.client !== 'sqlite' || database.filename === ':memory:' || existsSync(database.filename)) return true;
  io.err(`error: no registry database at ${database.filename} (set DOCKYARD_DATA_DIR, REGISTRY_DATABASE_URL or --config)`);
  return false;
}

/** The exit code of a failed command (2 usage or configuration, 1 refused), its message written; anything else is rethrown. */
export function failureExitCode(err: unknown, io: CommandIo, usage: string): number {
  if (err instanceof UsageError) {
    io.err(`error: ${err.message}\n${usage}`);
    return 2;
  }
  if (err instanceof ConfigError) {
    io.err(`error: ${err.message}`);
    return 2;
  }
  if (isDockyardError(err)) {
    io.err(`error: ${err.message}`);
    return 1;
  }
  throw err;
}

/** Runs `run` with the process's arguments, environment and streams when `moduleUrl` is the script node was asked to run. */
export function runCommandEntry(moduleUrl: string, run: (argv: readonly string[], env: Record<string, string | undefined>, io: CommandIo) => Promise<number>): void {
  if (!isEntryPoint(moduleUrl)) return;
  run(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
