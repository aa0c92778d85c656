// Personal access tokens over the API: created by their owner (secret shown once, stored
// hashed), used as the password at the token endpoint with exactly the owner's grants and
// no refresh token, never accepted by the admin API nor for admin API tokens, refused when
// revoked, expired, presented for another user or after the owner is disabled (each refusal
// audited with its reason), last use recorded, and admins list and revoke anyone's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, startHarness, type AuthHarness } from './harness.js';

const ALICE = basic('alice', 'alice-password');

describe('personal access tokens', () => {
  let h: AuthHarness;
  before(async () => {
    h = await startHarness();
    await createUser(h, 'alice', 'alice-password', [['team/*', 'pull,push']]);
    await createUser(h, 'bob', 'bob-password');
  });
  after(async () => h?.close());

  const create = (name: string, expires?: string, authorization = ALICE) => adminApi(h, 'POST', '/me/access-tokens', expires === undefined ? { name } : { name, expires }, authorization);
  const login = (user: string, secret: string, query: Array<[string, string]> = []) =>
    getToken(h, [['service', SERVICE], ['scope', 'repository:team/app:pull,push'], ...query], basic(user, secret));
  const lastReason = async () => {
    const r = await adminApi(h, 'GET', '/audit?action=token.issue&limit=1');
    return (r.body.entries as Array<{ details: { reason?: string } }>)[0].details.reason;
  };

  it('is created once, stored hashed, and logs docker in with the owner’s grants and no refresh token', async () => {
    const created = await create('laptop', '30d');
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const { secret, username, token } = created.body as { secret: string; username: string; token: { name: string; expiresAt: number; createdAt: number } };
    assert.equal(username, 'alice');
    assert.match(secret, /^dyat_[A-Za-z0-9_-]{55}$/);
    assert.equal(token.expiresAt - token.createdAt, 30 * 86400 * 1000);
    const rows = await h.db('access_tokens').select();
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(secret.slice(17)), 'the secret is not stored');
    assert.ok(!h.logs().includes(secret.slice(17)), 'the secret is not logged');

    const r = await login('alice', secret, [['offline_token', 'true'], ['client_id', 'docker']]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.refresh_token, undefined, 'docker keeps the token itself, so revoking it takes effect at once');
    assert.deepEqual(decodeJwt(r.body.token as string).access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    const post = await postToken(h, { grant_type: 'password', username: 'alice', password: secret, client_id: 'docker', service: SERVICE, scope: 'repository:team/x:pull' });
    assert.equal(post.status, 200, post.text);

    const listed = await adminApi(h, 'GET', '/me/access-tokens', undefined, ALICE);
    const [entry] = listed.body.tokens as Array<Record<string, unknown>>;
    assert.equal(entry.name, 'laptop');
    assert.equal(typeof entry.lastUsedAt, 'number', 'last use recorded');
    assert.ok(!listed.text.includes(secret));
  });

  it('is a registry credential only: refused by the admin API and for admin API tokens', async () => {
    const secret = (await create('ci')).body.secret as string;
    const me = await adminApi(h, 'GET', '/me/access-tokens', undefined, basic('alice', secret));
    assert.equal(me.status, 401);
    const mint = await adminApi(h, 'POST', '/me/access-tokens', { name: 'more' }, basic('alice', secret));
    assert.equal(mint.status, 401, 'a token cannot mint more tokens');
    const adminToken = await postToken(h, { grant_type: 'password', username: 'alice', password: secret, client_id: 'cli', service: 'dockyard-admin-api' });
    assert.equal(adminToken.status, 403);
    assert.equal(await lastReason(), 'access_token_admin_api');
  });

  it('is refused for another user, when revoked, when expired and when its owner is disabled', async () => {
    const secret = (await create('build', '1d')).body.secret as string;
    assert.equal((await login('bob', secret)).status, 401);
    assert.equal(await lastReason(), 'token_owner');
    assert.equal((await login('alice', `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).status, 401);
    assert.equal(await lastReason(), 'token_secret');

    assert.equal((await adminApi(h, 'DELETE', '/me/access-tokens/build', undefined, ALICE)).status, 204);
    assert.equal((await login('alice', secret)).status, 401);
    assert.equal(await lastReason(), 'token_revoked');
    assert.equal((await create('build', '1d')).status, 201, 'the name of a revoked token can be used again');

    const expiring = (await create('short', '1h')).body.secret as string;
    await h.db('access_tokens').where({ name: 'short' }).update({ expires_at: Date.now() - 1 });
    assert.equal((await login('alice', expiring)).status, 401);
    assert.equal(await lastReason(), 'token_expired');

    const live = (await create('disabled-check')).body.secret as string;
    assert.equal((await adminApi(h, 'PATCH', '/users/alice', { disabled: true })).status, 200);
    assert.equal((await login('alice', live)).status, 401);
    assert.equal(await lastReason(), 'disabled');
    assert.equal((await adminApi(h, 'PATCH', '/users/alice', { disabled: false })).status, 200);
    assert.equal((await login('alice', live)).status, 200);
  });

  it('checks names, lifetimes and duplicates, and is for users only', async () => {
    assert.equal((await create('bad name')).status, 400);
    assert.equal((await create('long', '400d')).status, 400);
    assert.equal((await create('dup')).status, 201);
    assert.equal((await create('dup')).status, 409);
    const robot = await adminApi(h, 'POST', '/robots', { name: 'ci' });
    const robotAuth = basic('robot$ci', robot.body.secret as string);
    assert.equal((await adminApi(h, 'POST', '/me/access-tokens', { name: 'x' }, robotAuth)).status, 403);
  });

  it('lets admins list and revoke a user’s tokens, audited', async () => {
    const secret = (await create('admin-revokes')).body.secret as string;
    const listed = await adminApi(h, 'GET', '/users/alice/access-tokens');
    assert.ok((listed.body.tokens as Array<{ name: string }>).some((t) => t.name === 'admin-revokes'));
    assert.equal((await adminApi(h, 'GET', '/me/access-tokens', undefined, basic('bob', 'bob-password'))).body.tokens instanceof Array, true);
    assert.equal((await adminApi(h, 'GET', '/users/alice/access-tokens', undefined, basic('bob', 'bob-password'))).status, 403);
    assert.equal((await adminApi(h, 'DELETE', '/users/alice/access-tokens/admin-revokes')).status, 204);
    assert.equal((await adminApi(h, 'DELETE', '/users/alice/access-tokens/admin-revokes')).status, 404);
    assert.equal((await login('alice', secret)).status, 401);
    const audit = await adminApi(h, 'GET', '/audit?action=access-token.revoke&outcome=ok&limit=1');
    const [entry] = audit.body.entries as Array<{ actor: string; target: string; details: { name: string } }>;
    assert.deepEqual([entry.actor, entry.target, entry.details.name], ['admin', 'user:alice', 'admin-revokes']);
  });
});
