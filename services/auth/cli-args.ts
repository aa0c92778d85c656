/**
 * Argument parsing for the admin CLI: positional words, boolean flags and flags that take
 * a value. Unknown flags are usage errors rather than silently ignored, so a typo such as
 * `--expire 30d` cannot create a robot that never expires.
 */

/** A mistake in how the CLI was called (exit code 2, usage printed). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const BOOLEAN_FLAGS = new Set(['password-stdin', 'admin', 'json', 'help']);
const VALUE_FLAGS = new Set(['expires', 'limit', 'actor', 'action', 'config', 'out', 'days']);
/** Flags that take a value and may be given several times (`--ip A --ip B`). */
const LIST_FLAGS = new Set(['ip', 'dns']);

/** Parsed command line. */
export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
  /** Every value of each repeatable flag, in command-line order. */
  lists: Map<string, string[]>;
  /** The positional argument at `index`, or a UsageError naming what is missing. */
  need(index: number, label: string): string;
}

/** Splits argv into positional arguments, boolean flags and valued flags. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
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
    if (BOOLEAN_FLAGS.has(name) && eq < 0) flags.add(name);
    else if (VALUE_FLAGS.has(name) || LIST_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      if (LIST_FLAGS.has(name)) lists.set(name, [...(lists.get(name) ?? []), value]);
      else values.set(name, value);
    } else throw new UsageError(`unknown option ${arg}`);
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
