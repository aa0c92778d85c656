/**
 * `dockyard config check [FILE]`: the configuration check of services/config-check.ts
 * (both services' sections, environment overrides, the files they name) as an admin
 * command. A problem surfaces as the ConfigError naming the key, which the CLI turns into
 * exit code 2 like every other configuration error.
 */
import { configFileFrom, type Env } from '../../../shared/config/index.js';
import { checkConfiguration } from '../../config-check.js';
import { UsageError, type ParsedArgs } from './args.js';

/** Runs `config check [FILE]` (or `--config FILE`, or DOCKYARD_CONFIG; none: environment only). */
export async function configCheckFromArgs(args: ParsedArgs, argv: readonly string[], env: Env): Promise<{ file: string | null; lines: string[] }> {
  const positional = args.positional[2];
  if (positional !== undefined && args.values.has('config')) throw new UsageError('give the file either as FILE or as --config FILE, not both');
  const file = positional ?? configFileFrom(argv, env);
  return { file: file ?? null, lines: await checkConfiguration(file, env) };
}
