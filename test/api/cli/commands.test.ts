// The `dockyard` command table as users meet it: help per command and per group, unknown
// commands and subcommands named as such, flags checked per command, exit codes 0/1/2,
// and --json on EVERY command in the table: each admin command runs here with --json on a
// temp data dir and its output must parse; the registry commands and `tokens revoke` are
// covered in registry-commands.test.ts, and the last test fails when a command is covered
// by neither.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../../services/auth/cli.js';
import { COMMANDS } from '../../../services/auth/cli/commands/index.js';

let dir: string;
const jsonRun = new Set<string>();
const REGISTRY_TESTED = ['repos list', 'tags list', 'tags delete', 'manifests delete', 'inspect', 'tokens revoke'];
/** Personal access token commands, with --json in test/api/auth/access-tokens-cli.test.ts. */
const ACCESS_TOKENS_TESTED = ['tokens create', 'tokens list', 'access-tokens list', 'access-tokens revoke'];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-cli-commands-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function dockyard(args: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdin: async () => input, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await runCli(args, { DOCKYARD_DATA_DIR: join(dir, 'data'), AUTH_BCRYPT_COST: '4' }, io);
  return { code, out, err };
}

/** Runs a command with --json, expects exit 0, returns the parsed output. */
async function json(args: string[], input = ''): Promise<unknown> {
  const r = await dockyard([...args, '--json'], input);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  const command = COMMANDS.filter((c) => c.name.split(' ').every((w, i) => args[i] === w)).sort((a, b) => b.name.length - a.name.length)[0];
  jsonRun.add(command.name);
  return JSON.parse(r.out);
}

test('help: per command (usage, flags, example, admin API route), per group, and the overview', async () => {
  const help = await dockyard(['users', 'add', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: dockyard users add NAME \[--password-stdin\] \[--admin\]/);
  assert.match(help.out, /--password-stdin +read the password from stdin/);
  assert.match(help.out, /admin API: POST \/api\/v1\/users/);
  assert.match(help.out, /example:\n {2}printf/);
  assert.doesNotMatch(help.out, /robots add/, 'only this command');
  const group = await dockyard(['robots', '--help']);
  assert.equal(group.code, 0);
  assert.match(group.out, /robots add +create a robot/);
  assert.doesNotMatch(group.out, /users add/);
  const all = await dockyard(['--help']);
  assert.equal(all.code, 0);
  for (const c of COMMANDS) assert.ok(all.out.includes(`  ${c.name} `), c.name);
  assert.equal((await dockyard(['tags', 'delete', '-h'])).code, 0);
});

test('unknown commands and subcommands are named; a bare group lists its commands; exit code 2', async () => {
  const frob = await dockyard(['users', 'frob']);
  assert.equal(frob.code, 2);
  assert.match(frob.err, /^error: unknown users command frob \(users commands: list, add, passwd, /);
  assert.match(frob.err, /users import-htpasswd/, 'the users overview follows');
  const area = await dockyard(['frobnicate']);
  assert.equal(area.code, 2);
  assert.match(area.err, /^error: unknown command frobnicate/);
  const bare = await dockyard(['grants']);
  assert.equal(bare.code, 2);
  assert.match(bare.err, /^error: grants needs a command\n/);
  assert.match(bare.err, /grants add +allow a subject/);
  assert.equal((await dockyard([])).code, 2);
});

test('flags and arguments are checked per command', async () => {
  const foreign = await dockyard(['users', 'list', '--expires', '3d']);
  assert.equal(foreign.code, 2);
  assert.match(foreign.err, /^error: unknown option --expires\nusage: dockyard users list/);
  const extra = await dockyard(['groups', 'add', 'a', 'b']);
  assert.equal(extra.code, 2);
  assert.match(extra.err, /unexpected argument b/);
  const missing = await dockyard(['grants', 'add', 'user:x']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing PATTERN\nusage: dockyard grants add SUBJECT PATTERN ACTIONS/);
  assert.equal((await dockyard(['users', 'list', '--json=yes'])).code, 2);
});

test('--json on every admin command; a refused change is exit 1', async () => {
  assert.deepEqual(await json(['users', 'list']), []);
  assert.equal((await json(['users', 'add', 'carl', '--password-stdin', '--admin'], 'carl-password\n') as { name: string; admin: boolean }).admin, true);
  assert.equal((await json(['users', 'add', 'dana', '--password-stdin'], 'dana-password\n') as { name: string }).name, 'dana');
  assert.deepEqual(await json(['users', 'passwd', 'dana', '--password-stdin'], 'dana-password-2\n'), { name: 'dana', passwordChanged: true });
  assert.equal((await json(['users', 'disable', 'dana']) as { disabled: boolean }).disabled, true);
  assert.equal((await json(['users', 'enable', 'dana']) as { disabled: boolean }).disabled, false);
  assert.equal((await json(['users', 'promote', 'dana']) as { admin: boolean }).admin, true);
  assert.equal((await json(['users', 'demote', 'dana']) as { admin: boolean }).admin, false);
  assert.deepEqual(await json(['users', 'unlock', 'dana']), { name: 'dana', attemptsCleared: 0 });
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, 'erin:$2y$05$dV1LoW73KAT2byK9wIqWhu2Jim7Xl7.u05hpm9rw3MKqWxZR0PgWK\nfrank:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n');
  const imported = (await json(['users', 'import-htpasswd', htpasswd])) as { imported: string[]; skipped: Array<{ name: string }> };
  assert.deepEqual([imported.imported, imported.skipped.map((s) => s.name)], [['erin'], ['frank']]);
  assert.equal((await json(['groups', 'add', 'devs']) as { name: string }).name, 'devs');
  assert.deepEqual(await json(['groups', 'add-member', 'devs', 'dana']), { group: 'devs', user: 'dana', member: true });
  assert.deepEqual((await json(['groups', 'list']) as Array<{ members: string[] }>)[0].members, ['dana']);
  assert.deepEqual(await json(['groups', 'remove-member', 'devs', 'dana']), { group: 'devs', user: 'dana', member: false });
  const robot = (await json(['robots', 'add', 'ci', '--expires', '30d'])) as { username: string; secret: string; expiresAt: number };
  assert.equal(robot.username, 'robot$ci');
  assert.ok(robot.secret.length > 20 && robot.expiresAt > Date.now());
  assert.equal((await json(['robots', 'list']) as Array<{ name: string }>)[0].name, 'robot$ci');
  assert.deepEqual(await json(['robots', 'revoke', 'ci']), { name: 'ci', revoked: true });
  assert.deepEqual(await json(['robots', 'delete', 'ci']), { name: 'ci', deleted: true });
  const grant = (await json(['grants', 'add', 'group:devs', 'team/**', 'pull,push'])) as { id: number; actions: string[] };
  assert.deepEqual(grant.actions, ['pull', 'push']);
  assert.equal((await json(['grants', 'list', 'group:devs']) as unknown[]).length, 1);
  assert.deepEqual(await json(['grants', 'remove', String(grant.id)]), { id: grant.id, removed: true });
  assert.deepEqual(await json(['refresh-tokens', 'list', 'user:dana']), []);
  assert.deepEqual(await json(['refresh-tokens', 'revoke', 'user:dana']), { revoked: 0 });
  assert.match((await json(['keys', 'rotate']) as { kid: string }).kid, /\S{8,}/);
  const audit = (await json(['audit', '--limit', '3'])) as Array<{ action: string; actor: string }>;
  assert.equal(audit.length, 3);
  assert.equal(audit[0].action, 'keys.rotate');
  assert.deepEqual(await json(['groups', 'delete', 'devs']), { name: 'devs', deleted: true });
  assert.deepEqual(await json(['users', 'delete', 'dana']), { name: 'dana', deleted: true });
  const certs = (await json(['tls', 'self-signed', 'reg.test', '--out', join(dir, 'certs')])) as { subjectAltNames: string[] };
  assert.deepEqual(certs.subjectAltNames, ['DNS:reg.test']);
  const config = join(dir, 'config.yml');
  writeFileSync(config, '');
  assert.equal((await json(['config', 'check', config]) as { file: string }).file, config);
  const refused = await dockyard(['users', 'delete', 'nobody', '--json']);
  assert.equal(refused.code, 1);
  assert.equal(refused.out, '', 'nothing on stdout when the command failed');
  assert.match(refused.err, /^error: /);
});

test('every command of the table has --json covered by a test', () => {
  const missing = COMMANDS.map((c) => c.name).filter((name) => !jsonRun.has(name) && !REGISTRY_TESTED.includes(name) && !ACCESS_TOKENS_TESTED.includes(name));
  assert.deepEqual(missing, []);
});
