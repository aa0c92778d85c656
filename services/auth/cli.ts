/**
 * The admin command line (`npm run admin -- …`). It works directly on the auth database
 * and key directory named by the same configuration as the service (YAML file and
 * environment), through the same operations as the REST API, so changes take effect on
 * the service's next request. Passwords are read from stdin only, never from arguments
 * (which end up in shell history and process listings).
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { ConfigError, configFileFrom, loadAuthConfig, type AuthServiceConfig } from '../../shared/config/index.js';
import { migrateLatest, openDatabase } from '../../shared/db/index.js';
import { isEntryPoint } from '../../shared/process/entry-point.js';
import { isDockyardError } from '../../shared/http/errors.js';
import { KeyStore } from '../../shared/crypto/keys.js';
import { parseArgs, UsageError, type ParsedArgs } from './cli-args.js';
import { runConfigCommand } from './cli-config.js';
import { isRegistryCommand, runRegistryCommand } from './cli-registry.js';
import { formatJson, formatTable, formatTime } from './cli-format.js';
import { runTlsCommand } from './cli-tls.js';
import { AdminOperations, type Actor } from './operations/index.js';

const USAGE = `usage: npm run admin -- [--config FILE] COMMAND
  users add NAME --password-stdin [--admin]     users passwd NAME --password-stdin
  users list [--json]                           users disable NAME | enable NAME | delete NAME
  users import-htpasswd FILE                    users unlock NAME
  groups add NAME | delete NAME | list [--json] | add-member GROUP USER | remove-member GROUP USER
  robots add NAME [--expires 30d] [--json]      robots list [--json] | revoke NAME
  grants add SUBJECT PATTERN ACTIONS            grants list [SUBJECT] [--json] | remove ID
      SUBJECT: user:NAME | group:NAME | robot:NAME | anonymous | authenticated
      PATTERN: team/app | team/* | team/** | \${user}/*     ACTIONS: pull,push,delete or *
  refresh-tokens list SUBJECT [--json] | revoke SUBJECT
  keys rotate
  audit [--limit N] [--actor NAME] [--action ACTION] [--json]
  tls self-signed HOST [--ip IP]... [--dns NAME]... [--out DIR] [--days N]
  config check [FILE]
  gc run [--dry-run] [--json]                   registry garbage collection (docs/lifecycle.md)
  rules list | add KIND REPOS TAGS | remove ID | preset release | audit    registry tag rules
  quotas set NAMESPACE BYTES [--soft BYTES] | remove NAMESPACE | list | usage NAME    registry quotas
  retention add REPOS TAGS [--keep-last N] [--keep-days N] | list | remove ID | run [--dry-run]
  images dependents|stale|bases|history REPO:TAG [--json] [--depth N]   (registry database; see docs/lineage.md)`;

/** Where the CLI writes; tests and main pass the process streams. */
export interface CliIo {
  stdin: () => Promise<string>;
  out: (text: string) => void;
  err: (text: string) => void;
}

async function readPassword(io: CliIo, args: ParsedArgs): Promise<string> {
  if (!args.flags.has('password-stdin')) throw new UsageError('the password is read from stdin: add --password-stdin');
  // `echo pw |` and here-strings end with a newline that is not part of the password.
  return (await io.stdin()).replace(/\r?\n$/, '');
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

async function runUsers(ops: AdminOperations, args: ParsedArgs, io: CliIo, actor: Actor): Promise<void> {
  const verb = args.positional[1];
  if (verb === 'list') {
    const users = await ops.users.list();
    if (args.flags.has('json')) return io.out(formatJson(users));
    return io.out(formatTable(['NAME', 'ADMIN', 'DISABLED', 'CREATED'], users.map((u) => [u.name, String(u.admin), String(u.disabled), formatTime(u.createdAt)])));
  }
  if (verb === 'import-htpasswd') {
    const file = args.need(2, 'FILE');
    const { imported, skipped } = await ops.users.importHtpasswd(actor, await readFile(file, 'utf8'));
    for (const s of skipped) io.err(`skipped ${file}:${s.line}${s.name ? ` (${s.name})` : ''}: ${s.reason}`);
    return io.out(`imported ${imported.length} user(s)${imported.length ? `: ${imported.join(', ')}` : ''}; skipped ${skipped.length}`);
  }
  const user = args.need(2, 'NAME');
  if (verb === 'add') {
    const created = await ops.users.create(actor, { name: user, password: await readPassword(io, args), admin: args.flags.has('admin') });
    return io.out(`created user ${created.name}${created.admin ? ' (admin)' : ''}`);
  }
  if (verb === 'passwd') {
    await ops.users.setPassword(actor, user, await readPassword(io, args));
    return io.out(`password of ${user} changed; its refresh tokens were revoked`);
  }
  if (verb === 'disable' || verb === 'enable') {
    await ops.users.setDisabled(actor, user, verb === 'disable');
    return io.out(`user ${user} ${verb}d`);
  }
  if (verb === 'delete') {
    await ops.users.delete(actor, user);
    return io.out(`deleted user ${user}`);
  }
  if (verb === 'unlock') {
    const cleared = await ops.users.unlock(actor, user);
    return io.out(`unlocked user ${user}: ${cleared} counted login attempt(s) cleared`);
  }
  throw new UsageError(`unknown users command ${verb}`);
}

async function runGroups(ops: AdminOperations, args: ParsedArgs, io: CliIo, actor: Actor): Promise<void> {
  const verb = args.positional[1];
  if (verb === 'list') {
    const groups = await ops.groups.list();
    if (args.flags.has('json')) return io.out(formatJson(groups));
    return io.out(formatTable(['NAME', 'MEMBERS'], groups.map((g) => [g.name, g.members.join(',')])));
  }
  const group = args.need(2, 'GROUP');
  if (verb === 'add') return io.out(`created group ${(await ops.groups.create(actor, { name: group })).name}`);
  if (verb === 'delete') {
    await ops.groups.delete(actor, group);
    return io.out(`deleted group ${group}`);
  }
  if (verb === 'add-member' || verb === 'remove-member') {
    const user = args.need(3, 'USER');
    if (verb === 'add-member') await ops.groups.addMember(actor, group, user);
    else await ops.groups.removeMember(actor, group, user);
    return io.out(`${verb === 'add-member' ? 'added' : 'removed'} ${user} ${verb === 'add-member' ? 'to' : 'from'} group ${group}`);
  }
  throw new UsageError(`unknown groups command ${verb}`);
}

async function runRobots(ops: AdminOperations, args: ParsedArgs, io: CliIo, actor: Actor): Promise<void> {
  const verb = args.positional[1];
  if (verb === 'list') {
    const robots = await ops.robots.list();
    if (args.flags.has('json')) return io.out(formatJson(robots));
    const rows = robots.map((r) => [r.name, r.revoked ? 'revoked' : r.expiresAt !== null && r.expiresAt <= Date.now() ? 'expired' : 'active', formatTime(r.expiresAt), formatTime(r.lastUsedAt)]);
    return io.out(formatTable(['NAME', 'STATE', 'EXPIRES', 'LAST USED'], rows));
  }
  const name = args.need(2, 'NAME');
  if (verb === 'add') {
    const created = await ops.robots.create(actor, { name, expires: args.values.get('expires') });
    if (args.flags.has('json')) return io.out(JSON.stringify({ username: created.username, secret: created.secret }));
    return io.out(`created robot ${created.username}${created.robot.expiresAt ? ` (expires ${formatTime(created.robot.expiresAt)})` : ''}\nsecret (shown once): ${created.secret}`);
  }
  if (verb === 'revoke') {
    await ops.robots.revoke(actor, name);
    return io.out(`revoked robot ${name}`);
  }
  throw new UsageError(`unknown robots command ${verb}`);
}

async function runGrants(ops: AdminOperations, args: ParsedArgs, io: CliIo, actor: Actor): Promise<void> {
  const verb = args.positional[1];
  if (verb === 'list') {
    const grants = await ops.grants.list(args.positional[2]);
    if (args.flags.has('json')) return io.out(formatJson(grants));
    return io.out(formatTable(['ID', 'SUBJECT', 'PATTERN', 'ACTIONS'], grants.map((g) => [String(g.id), g.subject, g.pattern, g.actions.join(',')])));
  }
  if (verb === 'add') {
    const grant = await ops.grants.add(actor, { subject: args.need(2, 'SUBJECT'), pattern: args.need(3, 'PATTERN'), actions: args.need(4, 'ACTIONS') });
    return io.out(`grant ${grant.id}: ${grant.subject} may ${grant.actions.join(',')} on ${grant.pattern}`);
  }
  if (verb === 'remove') {
    await ops.grants.remove(actor, args.need(2, 'ID'));
    return io.out(`removed grant ${args.positional[2]}`);
  }
  throw new UsageError(`unknown grants command ${verb}`);
}

async function runAudit(ops: AdminOperations, args: ParsedArgs, io: CliIo): Promise<void> {
  const limitText = args.values.get('limit');
  if (limitText !== undefined && !/^\d{1,4}$/.test(limitText)) throw new UsageError('--limit takes a number');
  const page = await ops.queryAudit({ limit: limitText === undefined ? undefined : Number(limitText), actor: args.values.get('actor'), action: args.values.get('action') });
  if (args.flags.has('json')) return io.out(formatJson(page.entries));
  const rows = page.entries.map((e) => [formatTime(e.at), e.actor, e.action, e.target, e.outcome, e.clientAddress, JSON.stringify(e.details)]);
  return io.out(formatTable(['TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'ADDRESS', 'DETAILS'], rows));
}

async function runRefreshTokens(ops: AdminOperations, args: ParsedArgs, io: CliIo, actor: Actor): Promise<void> {
  const verb = args.positional[1];
  if (verb === 'list') {
    const tokens = await ops.listRefreshTokens(args.need(2, 'SUBJECT'));
    if (args.flags.has('json')) return io.out(formatJson(tokens));
    return io.out(formatTable(['ID', 'CLIENT', 'SERVICE', 'CREATED', 'LAST USED'], tokens.map((t) => [String(t.id), t.clientId, t.service, formatTime(t.createdAt), formatTime(t.lastUsedAt)])));
  }
  if (verb === 'revoke') return io.out(`revoked ${await ops.revokeRefreshTokens(actor, args.need(2, 'SUBJECT'))} refresh token(s)`);
  throw new UsageError('expected: refresh-tokens list SUBJECT or refresh-tokens revoke SUBJECT');
}

async function dispatch(config: AuthServiceConfig, args: ParsedArgs, io: CliIo): Promise<void> {
  const area = args.positional[0];
  const known = ['users', 'groups', 'robots', 'grants', 'refresh-tokens', 'keys', 'audit'];
  if (!known.includes(area ?? '')) throw new UsageError(area ? `unknown command ${area}` : 'no command given');
  if (area === 'keys') {
    if (args.positional[1] !== 'rotate') throw new UsageError('expected: keys rotate');
    const keys = await KeyStore.open(config.keysDir);
    const db = openDatabase(config.database);
    try {
      await migrateLatest(db, 'auth');
      const { kid } = await new AdminOperations({ db, bcryptCost: config.bcryptCost, keys }).rotateKeys(cliActor());
      return io.out(`rotated signing key; new kid ${kid}`);
    } finally {
      await db.destroy();
    }
  }
  const db = openDatabase(config.database);
  try {
    await migrateLatest(db, 'auth');
    const ops = new AdminOperations({ db, bcryptCost: config.bcryptCost });
    const actor = cliActor();
    if (area === 'users') return await runUsers(ops, args, io, actor);
    if (area === 'groups') return await runGroups(ops, args, io, actor);
    if (area === 'robots') return await runRobots(ops, args, io, actor);
    if (area === 'grants') return await runGrants(ops, args, io, actor);
    if (area === 'audit') return await runAudit(ops, args, io);
    return await runRefreshTokens(ops, args, io, actor);
  } finally {
    await db.destroy();
  }
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failed, 2 usage or configuration). */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  try {
    if (isRegistryCommand(argv)) return await runRegistryCommand(argv, env, io);
    const args = parseArgs(argv);
    if (args.flags.has('help') || args.positional.length === 0) {
      io.out(USAGE);
      return args.flags.has('help') ? 0 : 2;
    }
    // Neither needs (nor may require) a working auth configuration.
    if (args.positional[0] === 'tls' || args.positional[0] === 'config') {
      if (args.positional[0] === 'tls') runTlsCommand(args, io.out);
      else await runConfigCommand(args, argv, env, io.out);
      return 0;
    }
    const config = loadAuthConfig({ file: configFileFrom(argv, env), env });
    await dispatch(config, args, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(`error: ${err.message}`);
      return 2;
    }
    if (isDockyardError(err)) {
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

if (isEntryPoint(import.meta.url)) {
  const io: CliIo = { stdin: readStdin, out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };
  runCli(process.argv.slice(2), process.env, io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
