/**
 * `npm run import -- [--config FILE] [--json] registry2 PATH`: imports the registry:2
 * store at PATH (its storage root, e.g. /var/lib/registry) into the registry that the
 * configuration names (same file and environment as `npm run registry`), then prints the
 * summary. Safe to run again after an interruption, and while the registry is running.
 * Exit 0 when everything came over, 1 when something was skipped (listed in the summary),
 * 2 for a usage or configuration error.
 */
import { resolve } from 'node:path';
import { ConfigError, configFileFrom, loadRegistryConfig, type Env } from '../../../shared/config/index.js';
import { isEntryPoint } from '../../../shared/process/entry-point.js';
import { KnexMetadataStore } from '../metadata/knex-store.js';
import { storageFor } from '../storage/drivers/for-config.js';
import { formatSummary, importRegistry2, NotARegistry2Store, progressView } from './index.js';

const USAGE = 'usage: npm run import -- [--config FILE] [--json] registry2 PATH';

/** Where the command writes; main passes the process streams. */
export interface ImportIo {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Runs the command; resolves with the exit code. */
export async function runImportCommand(argv: readonly string[], env: Env, io: ImportIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out.write(`${USAGE}\n`);
    return 0;
  }
  const json = argv.includes('--json');
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') i += 1;
    else if (!argv[i].startsWith('--')) words.push(argv[i]);
  }
  if (words.length !== 2 || words[0] !== 'registry2') {
    io.err.write(`${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadRegistryConfig({ file: configFileFrom(argv, env), env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`error: ${err.message}\n`);
    return 2;
  }
  const metadata = await KnexMetadataStore.open(config.database);
  try {
    // Progress goes to stderr so stdout holds only the summary (or its JSON).
    const summary = await importRegistry2({
      source: resolve(words[1]),
      storage: storageFor(config),
      metadata,
      manifestMaxBytes: config.limits.manifestMaxBytes,
      view: progressView(io.err),
    });
    io.out.write(json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    return summary.skipped.length === 0 ? 0 : 1;
  } catch (err) {
    if (!(err instanceof NotARegistry2Store)) throw err;
    io.err.write(`error: ${err.message}\n`);
    return 2;
  } finally {
    await metadata.close();
  }
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await runImportCommand(process.argv.slice(2), process.env, { out: process.stdout, err: process.stderr });
}
