/**
 * The `dockyard` command line (bin/dockyard.js runs the compiled form of this file;
 * `npm run admin -- …` runs the bin). Commands are defined in cli/commands/ (one table,
 * cli/commands/index.ts); this file finds the command for the words given, parses its
 * flags, prints help, runs it and maps errors to exit codes (0 done, 1 failed, 2 usage or
 * configuration). Admin commands work directly on the auth database and key directory
 * named by the same configuration as the service, through the same operations as the REST
 * API; registry commands talk HTTP to a running registry. Modules a command does not need
 * (knex, the operations, the configuration loader) are imported on first use: start-up
 * time is a project rule. Passwords come from stdin or the environment, never arguments.
 */
import { userInfo } from 'node:os';
import type { Env } from '../../shared/config/index.js';
import { ConfigError } from '../../shared/config/types.js';
import { isEntryPoint } from '../../shared/process/entry-point.js';
import { isRegistryCommand, runRegistryCommand } from './cli-registry.js';
import { isDockyardError } from '../../shared/http/errors.js';
import { createProgress } from '../../shared/observability/progress.js';
import { formatJson } from './cli/format.js';
import type { Knex } from '../../shared/db/index.js';
import { GLOBAL_FLAGS, parseArgs, positionalWords, UsageError } from './cli/args.js';
import type { CliContext, CliIo, Command } from './cli/command.js';
import { COMMANDS } from './cli/commands/index.js';
import { commandHelp, overview, synopsis } from './cli/help.js';
import { RegistryClient, RegistryRequestError, type Credentials } from './cli/registry-client.js';
import type { AdminOperations, Actor } from './operations/index.js';

export type { CliIo } from './cli/command.js';

/** The command the leading words name, or a UsageError saying which word is unknown. */
function findCommand(words: readonly string[]): Command | { group: string } {
  const exact = COMMANDS.filter((c) => {
    const parts = c.name.split(' ');
    return parts.every((p, i) => words[i] === p);
  });
  if (exact.length) return exact.sort((a, b) => b.name.length - a.name.length)[0];
  const [first, second] = words;
  const group = COMMANDS.filter((c) => c.name.split(' ')[0] === first);
  if (group.length === 0) throw new UsageError(first ? `unknown command ${first}` : 'no command given');
  if (second === undefined) return { group: first };
  const unknown = new UsageError(`unknown ${first} command ${second} (${first} commands: ${group.map((c) => c.name.split(' ')[1]).join(', ')})`);
  throw Object.assign(unknown, { hint: overview(COMMANDS, first) });
}

function cliActor(): Actor {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): the plain `cli` actor still identifies the channel.
  }
  return { name: user ? `cli:${user}` : 'cli', address: '' };
}

/** The context of one invocation; `close` releases what the handler opened. */
function createContext(command: Command, argv: readonly string[], env: Env, io: CliIo) {
  const args = parseArgs(argv, [...(command.flags ?? []), ...GLOBAL_FLAGS]);
  const expected = command.name.split(' ').length + (command.args?.length ?? 0);
  if (args.positional.length > expected) throw new UsageError(`unexpected argument ${args.positional[expected]}`);
  const json = args.flags.has('json');
  let db: Knex | undefined;
  let stdinRead: Promise<string> | undefined;
  const stdinPassword = async (): Promise<string> => {
    // `echo pw |` and here-strings end with a newline that is not part of the password.
    stdinRead ??= io.stdin().then((text) => text.replace(/\r?\n$/, ''));
    return stdinRead;
  };
  const credentials = async (required: boolean): Promise<Credentials | undefined> => {
    const username = args.values.get('username') ?? env.DOCKYARD_USERNAME;
    const fromStdin = args.flags.has('password-stdin');
    if (!username) {
      if (fromStdin || required) throw new UsageError('give the user name with --username NAME or DOCKYARD_USERNAME');
      return undefined;
    }
    const password = fromStdin ? await stdinPassword() : env.DOCKYARD_PASSWORD;
    if (!password) throw new UsageError('give the password with --password-stdin or DOCKYARD_PASSWORD');
    return { username, password };
  };
  const ctx: CliContext = {
    args,
    argv,
    env,
    io,
    json,
    print(value, text) {
      // Everything printed may come from the database: control characters are escaped (cli/format.ts).
      io.out(json ? formatJson(value) : text());
    },
    async admin(options = { keys: false }): Promise<AdminOperations> {
      const [{ configFileFrom, loadAuthConfig }, { migrateLatest, openDatabase }, { AdminOperations }] = await Promise.all([
        import('../../shared/config/index.js'),
        import('../../shared/db/index.js'),
        import('./operations/index.js'),
      ]);
      const config = loadAuthConfig({ file: configFileFrom(argv, env), env });
      db = openDatabase(config.database);
      await migrateLatest(db, 'auth');
      const keys = options.keys ? await (await import('./keys/open.js')).openSigningKeys(config, db) : undefined;
      return new AdminOperations({ db, bcryptCost: config.bcryptCost, keys });
    },
    actor: cliActor,
    async password() {
      if (!args.flags.has('password-stdin')) throw new UsageError('the password is read from stdin: add --password-stdin');
      return stdinPassword();
    },
    credentials: async () => (await credentials(true))!,
    progress: (label, total, unit) => createProgress({ label, total, unit, out: { write: (text) => (io.errRaw ?? io.err)(text), isTTY: io.errIsTty } }),
    async registry() {
      const base = args.values.get('registry') ?? env.DOCKYARD_REGISTRY ?? 'http://127.0.0.1:5000';
      if (!/^https?:\/\//.test(base)) throw new UsageError(`--registry takes an http:// or https:// URL, got ${JSON.stringify(base)}`);
      return new RegistryClient(base, await credentials(false));
    },
  };
  return { ctx, close: async () => db?.destroy() };
}

async function run(argv: readonly string[], env: Env, io: CliIo): Promise<void> {
  const words = positionalWords(argv, [...GLOBAL_FLAGS, ...COMMANDS.flatMap((c) => c.flags ?? [])]);
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (words.length === 0) {
    if (wantsHelp) return io.out(overview(COMMANDS));
    throw new UsageError('no command given');
  }
  const found = findCommand(words);
  if (!('name' in found)) {
    if (wantsHelp) return io.out(overview(COMMANDS, found.group));
    throw Object.assign(new UsageError(`${found.group} needs a command`), { hint: overview(COMMANDS, found.group) });
  }
  if (wantsHelp) {
    const { operationRoute } = await import('./operations/catalog.js');
    return io.out(commandHelp(found, found.operation ? operationRoute(found.operation) : undefined));
  }
  let opened: ReturnType<typeof createContext> | undefined;
  try {
    opened = createContext(found, argv, env, io);
    await found.run(opened.ctx);
  } catch (err) {
    if (err instanceof UsageError) err.hint ??= `usage: dockyard ${synopsis(found)}\n(dockyard ${found.name} --help for more)`;
    throw err;
  } finally {
    await opened?.close();
  }
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failed, 2 usage or configuration). */
export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  if (isRegistryCommand(argv)) return runRegistryCommand(argv, env, io);
  try {
    await run(argv, env, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n${err.hint ?? overview(COMMANDS)}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(`error: ${(err as Error).message}`);
      return 2;
    }
    if (isDockyardError(err) || err instanceof RegistryRequestError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTDIR') {
      io.err(`error: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The process entry: real streams, exit code on the process. */
export function main(argv: readonly string[]): void {
  const io: CliIo = {
    stdin: readStdin,
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    errRaw: (t) => process.stderr.write(t),
    errIsTty: process.stderr.isTTY,
  };
  runCli(argv, process.env, io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

if (isEntryPoint(import.meta.url)) main(process.argv.slice(2));
