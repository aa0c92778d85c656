// Refresh tokens (docker's identity token) and robot credentials after the account behind
// them changes: revoked, password changed, disabled, deleted (and re-created under the same
// name), robot revoked, robot expired. Each one stops working at once with 401
// UNAUTHORIZED, while an untouched account's token keeps working.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, type AuthHarness, type Reply } from '../../api/auth/harness.js';
import { startAuth } from '../services.js';

const CLIENT_ID = 'docker';
/** Every password, robot secret and refresh token this file used, to check none was logged. */
const secrets = new Set(['first-password', 'second-password', 'other-password', 'bystander-password']);

describe('refresh tokens and robots after their account changes', () => {
  let auth: AuthHarness;
  before(async () => {
    auth = await startAuth();
  });
  after(() => auth?.close());

  /** Logs in as docker does (`offline_token=true`) and returns the refresh token. */
  async function login(user: string, password: string): Promise<string> {
    const reply = await getToken(auth, [['service', SERVICE], ['account', user], ['client_id', CLIENT_ID], ['offline_token', 'true']], basic(user, password));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(typeof reply.body.refresh_token, 'string');
    secrets.add(reply.body.refresh_token as string);
    return reply.body.refresh_token as string;
  }

  function refresh(refreshToken: string): Promise<Reply> {
    return postToken(auth, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, service: SERVICE, scope: 'repository:team/app:pull' });
  }

  function assertRefused(reply: Reply, what: string): void {
    assert.equal(reply.status, 401, `${what}: ${reply.status} ${reply.text}`);
    assert.equal((reply.body.errors as Array<{ code: string }>)[0]?.code, 'UNAUTHORIZED', what);
    assert.equal(reply.body.token, undefined);
  }

  async function admin(method: string, path: string, body?: unknown): Promise<Reply> {
    const reply = await adminApi(auth, method, path, body);
    assert.ok(reply.status < 300, `${method} ${path}: ${reply.status} ${reply.text}`);
    return reply;
  }

  it('a refresh token works until it is revoked', async () => {
    await createUser(auth, 'revoked-user', 'first-password', [['team/*', 'pull']]);
    const token = await login('revoked-user', 'first-password');
    assert.equal((await refresh(token)).status, 200);
    await admin('POST', '/refresh-tokens/revoke', { subject: 'user:revoked-user' });
    assertRefused(await refresh(token), 'after revocation');
  });

  it('a password change ends every refresh token issued under the old password', async () => {
    await createUser(auth, 'changed-user', 'first-password', [['team/*', 'pull']]);
    const token = await login('changed-user', 'first-password');
    await admin('PUT', '/users/changed-user/password', { password: 'second-password' });
    assertRefused(await refresh(token), 'after the password change');
    assertRefused(await getToken(auth, [['service', SERVICE]], basic('changed-user', 'first-password')), 'the old password');
    assert.equal((await refresh(await login('changed-user', 'second-password'))).status, 200);
  });

  it('disabling a user ends their refresh tokens, and enabling them again does not revive them', async () => {
    await createUser(auth, 'disabled-user', 'first-password', [['team/*', 'pull']]);
    const tried = await login('disabled-user', 'first-password');
    // Never presented while the user is disabled: only the revocation at disabling can stop it.
    const untried = await login('disabled-user', 'first-password');
    await admin('PATCH', '/users/disabled-user', { disabled: true });
    assertRefused(await refresh(tried), 'while disabled');
    assertRefused(await getToken(auth, [['service', SERVICE]], basic('disabled-user', 'first-password')), 'password login while disabled');
    await admin('PATCH', '/users/disabled-user', { disabled: false });
    assertRefused(await refresh(untried), 'after enabling again');
    assertRefused(await refresh(tried), 'after enabling again, the one tried while disabled');
  });

  it('deleting a user ends their refresh tokens, also for a new user with the same name', async () => {
    await createUser(auth, 'deleted-user', 'first-password', [['team/*', 'pull']]);
    const tried = await login('deleted-user', 'first-password');
    const untried = await login('deleted-user', 'first-password');
    await admin('DELETE', '/users/deleted-user');
    assertRefused(await refresh(tried), 'after deletion');
    await createUser(auth, 'deleted-user', 'other-password', [['team/*', 'pull']]);
    assertRefused(await refresh(untried), 'after a new user took the name');
    assertRefused(await refresh(tried), 'after a new user took the name, the one tried in between');
  });

  it("another user's refresh token keeps working through all of that", async () => {
    await createUser(auth, 'bystander', 'bystander-password', [['team/*', 'pull']]);
    const token = await login('bystander', 'bystander-password');
    await admin('POST', '/refresh-tokens/revoke', { subject: 'user:revoked-user' });
    assert.equal((await refresh(token)).status, 200);
  });

  it('a revoked robot can neither log in with its secret nor use its refresh token', async () => {
    const created = await admin('POST', '/robots', { name: 'ci' });
    const { username, secret } = created.body as { username: string; secret: string };
    secrets.add(secret);
    await admin('POST', '/grants', { subject: 'robot:ci', pattern: 'team/*', actions: 'pull' });
    const token = await login(username, secret);
    assert.equal((await refresh(token)).status, 200);
    await admin('POST', '/robots/ci/revoke');
    assertRefused(await getToken(auth, [['service', SERVICE]], basic(username, secret)), 'secret after revocation');
    assertRefused(await refresh(token), 'refresh token after revocation');
  });

  it('an expired robot can neither log in with its secret nor use its refresh token', async () => {
    const created = await admin('POST', '/robots', { name: 'nightly', expires: '1h' });
    const { username, secret } = created.body as { username: string; secret: string };
    secrets.add(secret);
    const token = await login(username, secret);
    assert.equal((await refresh(token)).status, 200);
    // The clock cannot be moved inside the service; the expiry can be moved behind it.
    assert.equal(await auth.db('robots').where({ name: username }).update({ expires_at: Date.now() - 1000 }), 1);
    assertRefused(await getToken(auth, [['service', SERVICE]], basic(username, secret)), 'secret after expiry');
    assertRefused(await refresh(token), 'refresh token after expiry');
  });

  it('a refresh token is bound to its client_id and service', async () => {
    await createUser(auth, 'bound-user', 'first-password', [['team/*', 'pull']]);
    const token = await login('bound-user', 'first-password');
    assertRefused(await postToken(auth, { grant_type: 'refresh_token', refresh_token: token, client_id: 'other-client', service: SERVICE }), 'other client_id');
    assert.equal((await refresh(token)).status, 200);
  });

  it('no password, robot secret or refresh token reached the logs', () => {
    const logs = auth.logs();
    assert.ok(logs.length > 0, 'the service logged nothing at all');
    for (const secret of secrets) assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 12)}…) was logged`);
  });
});
