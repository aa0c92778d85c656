/**
 * `npm run admin -- notifications …`: add, list and remove webhook endpoints, read the
 * delivery log, redeliver. The admin CLI (services/auth/cli.ts) hands these commands to
 * this file as a child process, since services never import each other. Like `gc` and
 * `rules`, it opens the registry's own configuration and database on the registry's host
 * (secrets are sealed with `<datadir>/registry/notifications.key`, so it must run where
 * that file is); a running registry picks the changes up at its next dispatcher tick.
 */
import { userInfo } from 'node:os';
import { configFileFrom, loadRegistryConfig } from '../../../shared/config/index.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import { failureExitCode, registryDatabaseExists, runCommandEntry, UsageError, type CommandIo } from '../cli-support.js';
import { KnexMetadataStore } from '../metadata/knex-store.js';
import { createNotifications, type Notifications } from './index.js';
import { addEndpoint, deliveryLog, listEndpoints, redeliver, removeEndpoint } from './operations.js';

const USAGE = `usage: npm run admin -- [--config FILE] notifications COMMAND
  notifications add NAME URL [--secret S] [--repos PATTERN] [--ignore-actions pull,…] [--ignore-media-types T,…] [--format distribution|cloudevents] [--timeout 5s]
  notifications list [--json]
  notifications remove NAME
  notifications deliveries [NAME] [--json] [--limit N]     the delivery log, newest first (status, attempts, last error)
  notifications redeliver ID                               send a delivery again (ID from the delivery log)
  PATTERN: team/** | base/* | team/app (docs/notifications.md)`;

const VALUE_FLAGS = new Set(['--secret', '--repos', '--ignore-actions', '--ignore-media-types', '--format', '--timeout', '--limit']);

function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function parse(argv: readonly string[]): { words: string[]; json: boolean; values: Map<string, string> } {
  const words: string[] = [];
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') i++;
    else if (arg.startsWith('--config=')) continue;
    else if (arg === '--json') json = true;
    else if (VALUE_FLAGS.has(arg)) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      values.set(arg.slice(2), value);
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else words.push(arg);
  }
  if (words[0] !== 'notifications') throw new UsageError('expected: notifications COMMAND');
  return { words: words.slice(1), json, values };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const list = (text: string | undefined) => (text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter((s) => s !== ''));

async function run(n: Notifications, args: ReturnType<typeof parse>, io: CommandIo): Promise<void> {
  const [verb, first, second, extra] = args.words;
  const print = (value: unknown, text: () => string) => io.out(args.json ? JSON.stringify(value, null, 2) : text());
  if (verb === 'add') {
    if (first === undefined || second === undefined || extra !== undefined) throw new UsageError('expected: notifications add NAME URL');
    const v = args.values;
    const spec = {
      name: first,
      url: second,
      ...(v.has('secret') ? { secret: v.get('secret') } : {}),
      ...(v.has('repos') ? { repositories: v.get('repos') } : {}),
      ...(v.has('format') ? { format: v.get('format') } : {}),
      ...(v.has('timeout') ? { timeout: v.get('timeout') } : {}),
      ignore: { actions: list(v.get('ignore-actions')) ?? [], mediatypes: list(v.get('ignore-media-types')) ?? [] },
    };
    const endpoint = await addEndpoint(n, spec, cliActor());
    return print(endpoint, () => `added endpoint ${endpoint.name} -> ${endpoint.url}${endpoint.repositoryPattern ? ` for ${endpoint.repositoryPattern}` : ''}${endpoint.signed ? ' (signed)' : ''}`);
  }
  if (verb === 'list' && first === undefined) {
    const endpoints = await listEndpoints(n);
    return print(endpoints, () =>
      endpoints.length === 0
        ? 'no notification endpoints'
        : table([
            ['NAME', 'URL', 'REPOSITORIES', 'SIGNED', 'SOURCE', 'STATE', 'PENDING', 'LAG'],
            ...endpoints.map((e) => [e.name, e.url, e.repositoryPattern ?? '(all)', e.signed ? 'yes' : 'no', e.source, e.disabled ? 'disabled' : 'enabled', String(e.pending), `${e.lagSeconds}s`]),
          ]),
    );
  }
  if (verb === 'remove' && first !== undefined && second === undefined) {
    const endpoint = await removeEndpoint(n, first, cliActor());
    return io.out(`removed endpoint ${endpoint.name}`);
  }
  if (verb === 'deliveries' && second === undefined) {
    const limitText = args.values.get('limit') ?? '50';
    if (!/^[1-9]\d{0,3}$/.test(limitText)) throw new UsageError('--limit needs a positive integer');
    const entries = await deliveryLog(n, first, Number(limitText));
    return print(entries, () =>
      entries.length === 0
        ? 'no deliveries'
        : table([
            ['ID', 'ENDPOINT', 'EVENT', 'ACTION', 'REPOSITORY', 'STATUS', 'ATTEMPTS', 'LAST ERROR'],
            ...entries.map((d) => [String(d.id), d.endpoint, d.eventId, d.action, d.repository, d.status, String(d.attempts), d.lastError ?? '-']),
          ]),
    );
  }
  if (verb === 'redeliver' && first !== undefined && second === undefined) {
    if (!/^\d{1,15}$/.test(first)) throw new UsageError('ID must be a delivery number (see notifications deliveries)');
    await redeliver(n, Number(first), cliActor());
    return io.out(`delivery ${first} queued again`);
  }
  throw new UsageError('expected: notifications add NAME URL | list | remove NAME | deliveries [NAME] | redeliver ID');
}

/** Runs one `notifications …` invocation; returns the exit code (0 ok, 1 refused, 2 usage or configuration). */
export async function runNotificationsCli(argv: readonly string[], env: Record<string, string | undefined>, io: CommandIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.filter((a) => !a.startsWith('-')).length <= 1) {
    io.out(USAGE);
    return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  let metadata: KnexMetadataStore | null = null;
  try {
    const args = parse(argv);
    const config = loadRegistryConfig({ file: configFileFrom(argv, env), env });
    if (!registryDatabaseExists(config, io)) return 1;
    metadata = await KnexMetadataStore.open(config.database);
    await run(createNotifications(metadata.db, config.dataDir, silentLogger()), args, io);
    return 0;
  } catch (err) {
    return failureExitCode(err, io, USAGE);
  } finally {
    await metadata?.close();
  }
}

runCommandEntry(import.meta.url, runNotificationsCli);
