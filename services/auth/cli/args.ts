/**
 * Argument parsing for the CLI: positional words, boolean flags and flags that take a
 * value, checked against the flags the command declares (plus the global ones). Unknown
 * flags are usage errors rather than silently ignored, so a typo such as `--expire 30d`
 * cannot create a robot that never expires.
 */

/** A mistake in how the CLI was called (exit code 2, usage printed). */
export class UsageError extends Error {
  /** What to show under the message: the command's synopsis, a group's overview. */
  hint?: string;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A flag a command accepts. */
export interface FlagSpec {
  name: string;
  /** Placeholder of the value it takes (`--expires 30d` → 'DURATION'); absent for a boolean flag. */
  value?: string;
  /** May be given several times (`--ip A --ip B`). */
  repeat?: boolean;
  help: string;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'config', value: 'FILE', help: 'configuration file (default: DOCKYARD_CONFIG, else the environment only)' },
  { name: 'json', help: 'print the result as JSON' },
  { name: 'help', help: 'show this help' },
];

/** Parsed command line. */
export interface ParsedArgs {
  /** Every positional word, the command's own words first (`users add carl` → 3 words). */
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
  /** Every value of each repeatable flag, in command-line order. */
  lists: Map<string, string[]>;
  /** The positional argument at `index`, or a UsageError naming what is missing. */
  need(index: number, label: string): string;
}

/** The positional words of argv, skipping flags and the values of the value flags in `specs`. */
export function positionalWords(argv: readonly string[], specs: readonly FlagSpec[] = GLOBAL_FLAGS): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') && arg !== '-h') words.push(arg);
    else if (!arg.includes('=') && specs.some((s) => s.value && `--${s.name}` === arg)) i++;
  }
  return words;
}

/** Splits argv into positional arguments, boolean flags and valued flags, allowing only `specs`. */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[] = GLOBAL_FLAGS): ParsedArgs {
  const positional: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`unknown option ${arg}`);
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (spec.repeat) lists.set(name, [...(lists.get(name) ?? []), value]);
    else values.set(name, value);
  }
  return {
    positional,
    flags,
    values,
    lists,
    need(index: number, label: string): string {
      const value = positional[index];
      if (value === undefined) throw new UsageError(`missing ${label}`);
      return value;
    },
  };
}
