// The personal access token commands: `tokens create|list|revoke NAME` for a user's own
// tokens over HTTP with their password, `access-tokens list|revoke` for admins on the
// database; the created token works at the token endpoint until revoked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basic, createUser, getToken, runAdminCli, SERVICE, startHarness, type AuthHarness } from './harness.js';

let h: AuthHarness;
before(async () => {
  h = await startHarness();
  await createUser(h, 'alice', 'alice-password', [['team/*', 'pull']]);
});
after(async () => h?.close());

const self = (args: string[]) => runAdminCli(h.dataDir, [...args, '--auth', h.url, '--username', 'alice', '--password-stdin'], { input: 'alice-password\n' });
const works = async (secret: string) => (await getToken(h, [['service', SERVICE], ['scope', 'repository:team/a:pull']], basic('alice', secret))).status;

test('a user creates, lists and revokes a token of their own; an admin lists and revokes theirs', async () => {
  const created = await self(['tokens', 'create', 'laptop', '--expires', '7d', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const { secret, username } = JSON.parse(created.stdout) as { secret: string; username: string };
  assert.equal(username, 'alice');
  assert.equal(await works(secret), 200);

  const listedJson = JSON.parse((await self(['tokens', 'list', '--json'])).stdout) as Array<{ name: string; revoked: boolean }>;
  assert.deepEqual(listedJson.map((t) => [t.name, t.revoked]), [['laptop', false]]);
  const listed = await self(['tokens', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^NAME +STATE +EXPIRES/);
  assert.match(listed.stdout, /laptop +active/);
  assert.ok(!listed.stdout.includes(secret));

  const revoked = await self(['tokens', 'revoke', 'laptop']);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(await works(secret), 401);

  const second = JSON.parse((await self(['tokens', 'create', 'ci', '--json'])).stdout) as { secret: string };
  const adminList = await runAdminCli(h.dataDir, ['access-tokens', 'list', 'alice', '--json']);
  assert.deepEqual((JSON.parse(adminList.stdout) as Array<{ name: string; revoked: boolean }>).map((t) => [t.name, t.revoked]), [['ci', false], ['laptop', true]]);
  const adminRevoke = await runAdminCli(h.dataDir, ['access-tokens', 'revoke', 'alice', 'ci', '--json']);
  assert.equal(adminRevoke.code, 0, adminRevoke.stderr);
  assert.deepEqual(JSON.parse(adminRevoke.stdout), { user: 'alice', token: 'ci', revoked: true });
  assert.equal(await works(second.secret), 401);
});

test('a wrong password or a bad duration fails with a message', async () => {
  const wrong = await runAdminCli(h.dataDir, ['tokens', 'create', 'x', '--auth', h.url, '--username', 'alice', '--password-stdin'], { input: 'nope\n' });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /invalid username or password/);
  const bad = await self(['tokens', 'create', 'x', '--expires', 'soon']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid duration/);
});
