/**
 * What a CLI command is: one definition per command (its words, arguments, flags, help
 * and the handler). Every command prints through `print`, so every command has --json. The table of all of them is commands/index.ts;
 * main.ts finds the command, parses its flags, prints its help, and turns errors into exit
 * codes. Handlers reach the database, the signing keys or a registry only through the
 * context, which imports those modules on first use so that `--help` or a registry command
 * never loads knex.
 */
import type { Env } from '../../../shared/config/index.js';
import type { Progress } from '../../../shared/observability/progress.js';
import type { Actor, AdminOperations } from '../operations/index.js';
import type { FlagSpec, ParsedArgs } from './args.js';
import type { Credentials, RegistryClient } from './registry-client.js';

/** Where the CLI reads and writes; tests and the bin pass the process streams. */
export interface CliIo {
  stdin: () => Promise<string>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Writes to stderr as is, for progress redraws (without it, `err` is used). */
  errRaw?: (text: string) => void;
  /** True when `err` is an interactive terminal (progress bars draw only there). */
  errIsTty?: boolean;
}

/** What a handler gets. */
export interface CliContext {
  args: ParsedArgs;
  argv: readonly string[];
  env: Env;
  io: CliIo;
  /** --json was given. */
  json: boolean;
  /** Prints `value` as JSON with --json, else the text `text()` makes. */
  print(value: unknown, text: () => string): void;
  /** The admin operations on the auth database of the configuration (opened and migrated on first use). */
  admin(options?: { keys: boolean }): Promise<AdminOperations>;
  /** Who the CLI acts as in the audit log (`cli:<os user>`). */
  actor(): Actor;
  /** The password given on stdin (requires --password-stdin). */
  password(): Promise<string>;
  /** Username and password from --username / DOCKYARD_USERNAME and --password-stdin / DOCKYARD_PASSWORD. */
  credentials(): Promise<Credentials>;
  /** A progress display on stderr for long work (a bar on a terminal, plain lines otherwise). */
  progress(label: string, total?: number, unit?: 'items' | 'bytes'): Progress;
  /** An HTTP client for the registry named by --registry / DOCKYARD_REGISTRY. */
  registry(): Promise<RegistryClient>;
}

/** A positional argument of a command. */
export interface ArgSpec {
  name: string;
  optional?: boolean;
}

/** One command of the CLI. */
export interface Command {
  /** The words that select it: `users add`, `audit`. */
  name: string;
  args?: readonly ArgSpec[];
  flags?: readonly FlagSpec[];
  /** One line for the overview. */
  summary: string;
  /** More lines for `--help` (what it does, what the arguments mean). */
  details?: string;
  /** A complete example invocation (shown in help and docs/cli.md). */
  example: string;
  /** The admin API operation it performs (services/auth/operations/catalog.ts), shown in help. */
  operation?: string;
  run(ctx: CliContext): Promise<void>;
}
