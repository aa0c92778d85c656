/**
 * What every service entry point (`npm run registry|auth`, `npm start`) does the same way:
 * run only when invoked directly, turn configuration errors into one clear line and exit
 * code 2, and stop gracefully on SIGTERM/SIGINT.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/types.js';
import type { Logger } from '../observability/logger.js';

/** A started service as an entry point needs it. */
export interface Started {
  logger: Logger;
  /** Stops accepting, lets in-flight requests finish, closes databases. */
  close(): Promise<void>;
}

/** True when the module at `moduleUrl` is the script node was asked to run. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === pathToFileURL(realpathSync(script)).href;
}

/** Runs `start` when `moduleUrl` is the entry point, then waits for SIGTERM/SIGINT to stop. */
export function runEntryPoint(label: string, moduleUrl: string, start: () => Promise<Started>): void {
  if (!isEntryPoint(moduleUrl)) return;
  start().then(
    ({ logger, close }) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      // Handlers stay installed: npm and tsx relay a Ctrl-C too, and a repeat must not kill mid-drain.
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`${label} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
