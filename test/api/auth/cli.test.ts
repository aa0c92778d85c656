// The admin CLI as operators run it against a temp DOCKYARD_DATA_DIR, and its changes
// reaching a running auth service on the same data without a restart. The first test goes
// through `npx tsx` exactly as documented; the rest call the same file with
// `node --import tsx`, which skips npx's start-up cost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, getToken, postToken, runAdminCli, SERVICE, startHarness, type AuthHarness, type CliResult } from './harness.js';

let dataDir: string;
let h: AuthHarness | undefined;

function cli(args: string[], input = '', via: 'npx' | 'node' = 'node'): Promise<CliResult> {
  return runAdminCli(dataDir, args, { input, via, env: { AUTH_BCRYPT_COST: '4' } });
}

async function ok(args: string[], input = '', via: 'npx' | 'node' = 'node'): Promise<string> {
  const r = await cli(args, input, via);
  assert.equal(r.code, 0, `${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'dockyard-auth-cli-'));
});
after(async () => {
  await h?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('users add/list: password from stdin only, --admin, --json listing', async () => {
  assert.match(await ok(['users', 'add', 'carl', '--password-stdin', '--admin'], 'carl-password\n', 'npx'), /created user carl \(admin\)/);
  await ok(['users', 'add', 'dana', '--password-stdin'], 'dana-password\n');
  const users = JSON.parse(await ok(['users', 'list', '--json'])) as Array<{ name: string; admin: boolean }>;
  assert.deepEqual(users.map((u) => [u.name, u.admin]), [['carl', true], ['dana', false]]);
  const noStdin = await cli(['users', 'add', 'eve', 'secret-on-the-command-line']);
  assert.equal(noStdin.code, 2);
  assert.match(noStdin.stderr, /--password-stdin/);
  const dup = await cli(['users', 'add', 'carl', '--password-stdin'], 'carl-password\n');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
});

test('groups, robots and grants from the CLI', async () => {
  await ok(['groups', 'add', 'ops']);
  await ok(['groups', 'add-member', 'ops', 'dana']);
  assert.deepEqual(JSON.parse(await ok(['groups', 'list', '--json'])).map((g: { name: string; members: string[] }) => [g.name, g.members]), [['ops', ['dana']]]);
  const robot = JSON.parse(await ok(['robots', 'add', 'builder', '--expires', '30d', '--json'])) as { username: string; secret: string };
  assert.equal(robot.username, 'robot$builder');
  assert.match(robot.secret, /^[A-Za-z0-9_-]{43}$/);
  writeFileSync(join(dataDir, 'robot.json'), JSON.stringify(robot));
  await ok(['grants', 'add', 'robot:builder', 'ci/*', 'pull,push']);
  await ok(['grants', 'add', 'group:ops', 'ops/**', '*']);
  await ok(['grants', 'add', 'anonymous', 'public/**', 'pull']);
  const grants = JSON.parse(await ok(['grants', 'list', '--json'])) as Array<{ subject: string; pattern: string }>;
  assert.deepEqual(grants.map((g) => `${g.subject} ${g.pattern}`), ['robot:robot$builder ci/*', 'group:ops ops/**', 'anonymous public/**']);
  const bad = await cli(['grants', 'add', 'user:ghost', 'x', 'pull']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no user named ghost/);
  assert.equal((await cli(['robots', 'add', 'x', '--expire', '30d'])).code, 2, 'a mistyped option is an error, not ignored');
});

test('users import-htpasswd imports bcrypt lines and reports the others', async () => {
  const file = join(dataDir, 'htpasswd');
  writeFileSync(
    file,
    [
      'frank:$2y$05$dV1LoW73KAT2byK9wIqWhu2Jim7Xl7.u05hpm9rw3MKqWxZR0PgWK',
      'gina:$apr1$abcdefgh$0123456789abcdefghijkl',
      'carl:$2y$05$dV1LoW73KAT2byK9wIqWhu2Jim7Xl7.u05hpm9rw3MKqWxZR0PgWK',
      'not a valid line',
      '',
    ].join('\n'),
  );
  const r = await cli(['users', 'import-htpasswd', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 1 user\(s\): frank; skipped 3/);
  assert.match(r.stderr, /:2 \(gina\): not a bcrypt hash/);
  assert.match(r.stderr, /:3 \(carl\): user already exists/);
  assert.match(r.stderr, /:4: not a name:hash line/);
  const missing = await cli(['users', 'import-htpasswd', join(dataDir, 'nope')]);
  assert.equal(missing.code, 1);
});

test('CLI changes take effect on a running service at once', async () => {
  h = await startHarness({ dataDir });
  const robot = JSON.parse(readFileSync(join(dataDir, 'robot.json'), 'utf8')) as { username: string; secret: string };
  const robotAuth = basic(robot.username, robot.secret);
  const robotToken = await getToken(h, [['scope', 'repository:ci/app:pull,push'], ['service', SERVICE]], robotAuth);
  assert.equal(robotToken.status, 200, robotToken.text);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('frank', 'secret123'))).status, 200, 'imported htpasswd user logs in');

  await ok(['robots', 'revoke', 'builder']);
  assert.equal((await getToken(h, [['service', SERVICE]], robotAuth)).status, 401);

  await ok(['users', 'passwd', 'dana', '--password-stdin'], 'dana-new-password\n');
  assert.equal((await getToken(h, [['service', SERVICE]], basic('dana', 'dana-password'))).status, 401);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('dana', 'dana-new-password'))).status, 200);

  const login = await getToken(h, [['client_id', 'docker'], ['offline_token', 'true'], ['service', SERVICE]], basic('dana', 'dana-new-password'));
  const refreshToken = String(login.body.refresh_token);
  const listed = JSON.parse(await ok(['refresh-tokens', 'list', 'user:dana', '--json'])) as Array<{ clientId: string }>;
  assert.deepEqual(listed.map((t) => t.clientId), ['docker']);
  assert.match(await ok(['refresh-tokens', 'revoke', 'user:dana']), /revoked 1 refresh token/);
  const refreshed = await postToken(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'docker', service: SERVICE });
  assert.equal(refreshed.status, 401);

  await ok(['users', 'disable', 'dana']);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('dana', 'dana-new-password'))).status, 401);
  await ok(['users', 'enable', 'dana']);
  assert.equal((await getToken(h, [['service', SERVICE]], basic('dana', 'dana-new-password'))).status, 200);

  const rotated = await ok(['keys', 'rotate']);
  const kid = /new kid (\S+)/.exec(rotated)?.[1];
  assert.ok(kid, rotated);
  const jwks = (await (await fetch(`${h.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
  assert.equal(jwks.keys[0].kid, kid, 'the service publishes the rotated key without a restart');
  const token = String((await getToken(h, [['service', SERVICE]], basic('dana', 'dana-new-password'))).body.token);
  assert.equal((JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid, kid);
});

test('audit lists CLI changes and token requests; usage errors exit 2', async () => {
  const entries = JSON.parse(await ok(['audit', '--limit', '50', '--json'])) as Array<{ actor: string; action: string }>;
  assert.ok(entries.some((e) => e.action === 'robot.revoke' && e.actor.startsWith('cli')));
  assert.ok(entries.some((e) => e.action === 'token.issue' && e.actor === 'dana'));
  const table = await ok(['audit', '--limit', '3']);
  assert.equal(table.trim().split('\n').length, 4, 'header and three entries');
  assert.equal((await cli(['bogus'])).code, 2);
  assert.equal((await cli(['audit', '--limit', 'many'])).code, 2);
  assert.equal((await cli([])).code, 2);
});
