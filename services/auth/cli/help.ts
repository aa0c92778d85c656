/** Help texts, all made from the command definitions: the overview, a group's, one command's. */
import { GLOBAL_FLAGS, type FlagSpec } from './args.js';
import type { Command } from './command.js';

/** `users add NAME --password-stdin [--admin]`-style synopsis of a command. */
export function synopsis(command: Command): string {
  const args = (command.args ?? []).map((a) => (a.optional ? `[${a.name}]` : a.name));
  const flags = (command.flags ?? []).map((f) => `[--${f.name}${f.value ? ` ${f.value}` : ''}${f.repeat ? '...' : ''}]`);
  return [command.name, ...args, ...flags].join(' ');
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const left = flags.map((f) => `  --${f.name}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => `${left[i].padEnd(width)}  ${f.help}`);
}

/** The overview: every command with its summary, or only those of one group. */
/**
 * The registry's own admin commands (cli-registry.ts hands them to the registry's command
 * line, which opens the registry's database and storage on this host).
 */
const REGISTRY_ADMIN = [
  'registry administration, on the registry host (each prints its own usage when called without arguments):',
  '  gc run [--dry-run] [--json]                            garbage collection (docs/lifecycle.md)',
  '  rules list | add KIND REPOS TAGS | remove ID | preset release | audit',
  '  quotas set NAMESPACE BYTES [--soft BYTES] | remove NAMESPACE | list | usage NAME',
  '  retention add REPOS TAGS [--keep-last N] [--keep-days N] [--by push|pull] | list | remove ID | run [--dry-run]',
  '  images dependents|stale|bases|history REPO:TAG [--json]  lineage (docs/lineage.md)',
  '  images stale --namespace NS [--json]                  stale images of every moved tag in a namespace',
  '  notifications add NAME URL [--secret S] [--repos P] | list | remove NAME | deliveries [NAME] | redeliver ID  webhooks (docs/notifications.md)',
  '  import registry2 PATH [--json]                         a registry:2 store (docs/operations.md)',
];

export function overview(commands: readonly Command[], group?: string): string {
  const shown = group ? commands.filter((c) => c.name.split(' ')[0] === group) : commands;
  const width = Math.max(...shown.map((c) => c.name.length));
  return [
    `usage: dockyard [--config FILE] ${group ?? 'COMMAND'}${group ? ' COMMAND' : ''} [ARGS] [--json]   (also: npm run -s admin -- …)`,
    '',
    ...shown.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    ...(group ? [] : ['', ...REGISTRY_ADMIN]),
    '',
    `Help on one command: dockyard ${group ?? 'users add'}${group ? ' COMMAND' : ''} --help. Exit codes: 0 done, 1 failed, 2 usage or configuration error.`,
  ].join('\n');
}

/** `dockyard users add --help`. */
export function commandHelp(command: Command, operationRoute?: string): string {
  const lines = [`usage: dockyard ${synopsis(command)}`, '', command.summary];
  if (command.details) lines.push('', command.details);
  lines.push('', 'options:', ...flagLines([...(command.flags ?? []), ...GLOBAL_FLAGS]));
  if (operationRoute) lines.push('', `admin API: ${operationRoute}`);
  lines.push('', 'example:', `  ${command.example}`);
  return lines.join('\n');
}
