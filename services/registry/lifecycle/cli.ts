/**
 * The registry's lifecycle commands, `npm run admin -- gc run [--dry-run] [--json]` and
 * `npm run admin -- rules|quotas|retention …` (the auth service's admin CLI hands these over to
 * this file as a child process, since the
 * services share no code). It opens the registry's own configuration, database and storage
 * directly, like `npm run admin` does for the auth database: the collector is safe next to
 * a running registry (every deletion is locked and re-checked), so no endpoint is needed
 * and it also works while the registry is down.
 */
import { configFileFrom, loadRegistryConfig, type Env } from '../../../shared/config/index.js';
import { createLogger } from '../../../shared/observability/logger.js';
import { KnexMetadataStore } from '../metadata/knex-store.js';
import { BlobStore } from '../storage/blobs.js';
import { storageFor } from '../storage/drivers/for-config.js';
import { createProgress } from '../../../shared/observability/progress.js';
import type { GcReport } from './gc.js';
import { lowerCpuPriority } from './background-priority.js';
import { createCollector, retentionOf } from './index.js';
import { QuotaStore } from './quotas.js';
import { runQuotasCommand } from './quotas-cli.js';
import { runRetentionCommand } from './retention-cli.js';
import { TagRuleStore } from './rules-store.js';
import { failureExitCode, registryDatabaseExists, runCommandEntry, UsageError, type CommandIo } from '../cli-support.js';
import { runRulesCommand } from './rules-cli.js';

const USAGE = `usage: npm run admin -- [--config FILE] COMMAND
  gc run [--dry-run] [--json]
  rules list [--json] | add KIND REPOSITORY_PATTERN TAG_PATTERN | remove ID | preset release | audit [--json]
      KIND: immutable | forbidden | format    REPOSITORY_PATTERN: prod/** | team/* | team/app
      TAG_PATTERN: a glob (v*, latest) or a regular expression starting with ^
  quotas set NAMESPACE BYTES [--soft BYTES] | remove NAMESPACE | list [--json] | usage NAMESPACE|REPOSITORY [--json]
  retention add REPOSITORY_PATTERN TAG_PATTERN [--keep-last N] [--keep-days N] [--by push|pull] | list [--json] | remove ID
  retention run [--dry-run] [--json]`;

function parse(argv: readonly string[]): { words: string[]; flags: Set<string>; values: Map<string, string> } {
  const words: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--config') i += 1;
    else if (arg.startsWith('--config=')) continue;
    else if (arg === '--dry-run' || arg === '--json') flags.add(arg.slice(2));
    else if (arg === '--soft' || arg === '--keep-last' || arg === '--keep-days' || arg === '--by') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      values.set(arg.slice(2), value);
    }
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else words.push(arg);
  }
  return { words, flags, values };
}

/** The human-readable report: one line per deletion, then the totals. */
export function formatGcReport(report: GcReport): string {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = [
    ...report.manifests.map((m) => `${verb} manifest ${m.repository}@${m.digest}`),
    ...report.links.map((l) => `${verb} blob link ${l.repository} ${l.digest}`),
    ...report.blobs.map((b) => `${verb} blob ${b.digest} (${b.size} bytes)`),
  ];
  lines.push(
    `${report.dryRun ? 'dry run: ' : ''}${report.manifests.length} manifest(s), ${report.links.length} blob link(s), ${report.blobs.length} blob(s) ${verb}; ` +
      `${report.bytesFreed} bytes ${report.dryRun ? 'would be ' : ''}freed in ${(report.durationMs / 1000).toFixed(3)} s`,
  );
  return lines.join('\n');
}

/** Runs one invocation; returns the exit code (0 ok, 1 failed, 2 usage or configuration). */
export async function runRegistryCli(argv: readonly string[], env: Env, io: CommandIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  try {
    const { words, flags, values } = parse(argv);
    const isGc = words[0] === 'gc' && words[1] === 'run' && words.length === 2;
    if (!isGc && !['rules', 'quotas', 'retention'].includes(words[0] ?? '')) throw new UsageError('expected: gc run, rules …, quotas … or retention …');
    const config = loadRegistryConfig({ file: configFileFrom(argv, env), env });
    if (!registryDatabaseExists(config, io)) return 1;
    const metadata = await KnexMetadataStore.open(config.database);
    try {
      if (words[0] === 'rules') {
        await runRulesCommand(words.slice(1), flags, new TagRuleStore(metadata.db), io);
        return 0;
      }
      if (words[0] === 'retention') {
        await runRetentionCommand(words.slice(1), flags, values, retentionOf(metadata), io);
        return 0;
      }
      if (words[0] === 'quotas') {
        await runQuotasCommand(words.slice(1), flags, values, new QuotaStore(metadata.db), io);
        return 0;
      }
      if (config.storage.driver === 'memory') throw new UsageError('gc run needs the filesystem or S3 storage driver (memory storage lives inside the registry process)');
      const storage = storageFor(config);
      lowerCpuPriority();
      const logger = createLogger({ name: 'registry-gc', level: 'silent' });
      const collector = createCollector(config, { metadata, storage, blobs: new BlobStore(storage), logger });
      // On stderr, so that --json output on stdout stays one document.
      const progress = createProgress({ label: flags.has('dry-run') ? 'garbage collection (dry run)' : 'garbage collection', out: process.stderr });
      const report = await collector.run({ dryRun: flags.has('dry-run'), onBatch: (kind, deleted) => progress.advance(deleted, `${kind}s`) });
      progress.done(`${report.manifests.length + report.links.length + report.blobs.length} item(s) ${report.dryRun ? 'found' : 'deleted'}`);
      io.out(flags.has('json') ? JSON.stringify(report, null, 2) : formatGcReport(report));
      return 0;
    } finally {
      await metadata.close();
    }
  } catch (err) {
    return failureExitCode(err, io, USAGE);
  }
}

runCommandEntry(import.meta.url, runRegistryCli);
