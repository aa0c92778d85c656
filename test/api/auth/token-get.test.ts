// GET /token through a real port: every request shape real clients send (ARCHITECTURE.md
// "Token protocol notes"), the JWT they get back, and the errors for bad requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accessOf,
  adminApi,
  basic,
  createUser,
  getToken,
  SERVICE,
  ISSUER,
  startHarness,
  TTL_SECONDS,
  verifiedClaims,
  type AuthHarness,
} from './harness.js';

let h: AuthHarness;
const ALICE = ['alice', 'alice-password'] as const;

before(async () => {
  h = await startHarness();
  await createUser(h, ...ALICE, [['team/*', 'pull,push'], ['shared/**', 'pull']]);
  const anon = await adminApi(h, 'POST', '/grants', { subject: 'anonymous', pattern: 'public/**', actions: 'pull' });
  assert.equal(anon.status, 201);
});
after(async () => {
  await h?.close();
});

const aliceAuth = () => basic(...ALICE);

test('skopeo-style GET with Basic and one scope: token, access_token, expires_in, issued_at', async () => {
  const r = await getToken(h, [['account', 'alice'], ['scope', 'repository:team/app:pull,push'], ['service', SERVICE]], aliceAuth());
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.body.token, 'string');
  assert.equal(r.body.access_token, r.body.token);
  assert.equal(r.body.expires_in, TTL_SECONDS);
  assert.match(String(r.body.issued_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(r.body.refresh_token, undefined);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.deepEqual(accessOf(String(r.body.token)), [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
});

test('the JWT: ES256 with kid and x5c, aud a string, claims per the token spec, signature valid', async () => {
  const r = await getToken(h, [['scope', 'repository:team/app:push,pull'], ['service', SERVICE]], aliceAuth());
  const { header, payload } = await verifiedClaims(h, String(r.body.token));
  assert.equal(header.alg, 'ES256');
  assert.equal(header.typ, 'JWT');
  assert.equal(typeof header.kid, 'string');
  assert.ok(Array.isArray(header.x5c) && header.x5c.length === 1 && /^[A-Za-z0-9+/]+=*$/.test(header.x5c[0]), 'x5c holds one standard-base64 certificate');
  assert.equal(payload.aud, SERVICE, 'aud must be a plain string');
  assert.equal(payload.iss, ISSUER);
  assert.equal(payload.sub, 'alice');
  assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), TTL_SECONDS);
  assert.equal(payload.nbf, payload.iat);
  assert.equal(typeof payload.jti, 'string');
  assert.deepEqual(payload.access, [{ type: 'repository', name: 'team/app', actions: ['push', 'pull'] }]);
  const pem = await fetch(`${h.url}/certs.pem`);
  assert.match(await pem.text(), /-----BEGIN CERTIFICATE-----/);
});

test('login without scope (skopeo login, docker login) gets a token with empty access', async () => {
  const r = await getToken(h, [['account', 'alice'], ['service', SERVICE]], aliceAuth());
  assert.equal(r.status, 200);
  assert.deepEqual(accessOf(String(r.body.token)), []);
});

test('several scopes in one value and repeated scope parameters (podman mount) are all answered', async () => {
  const r = await getToken(
    h,
    [
      ['scope', 'repository:team/app:pull,push repository:shared/base/img:pull'],
      ['scope', 'repository:team/other:pull'],
      ['scope', 'repository:secret/x:pull'],
      ['service', SERVICE],
    ],
    aliceAuth(),
  );
  assert.equal(r.status, 200);
  assert.deepEqual(accessOf(String(r.body.token)), [
    { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    { type: 'repository', name: 'shared/base/img', actions: ['pull'] },
    { type: 'repository', name: 'team/other', actions: ['pull'] },
  ]);
});

test('denied actions are dropped, never an error', async () => {
  const r = await getToken(h, [['scope', 'repository:shared/lib:pull,push,delete'], ['scope', 'registry:catalog:*'], ['service', SERVICE]], aliceAuth());
  assert.equal(r.status, 200);
  // The catalog `*` becomes the listing of what alice may pull (see test/security/sessions/catalog.test.ts).
  assert.deepEqual(accessOf(String(r.body.token)), [
    { type: 'repository', name: 'shared/lib', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: ['list'] },
  ]);
});

test('malformed scopes are ignored', async () => {
  const r = await getToken(h, [['scope', 'garbage'], ['scope', 'repository::pull'], ['scope', 'repository:team/app:pull'], ['service', SERVICE]], aliceAuth());
  assert.equal(r.status, 200);
  assert.deepEqual(accessOf(String(r.body.token)), [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
});

test('anonymous: no Authorization, sub "", only what anonymous may do', async () => {
  const r = await getToken(h, [['scope', 'repository:public/lib:pull,push'], ['scope', 'repository:team/app:pull'], ['service', SERVICE]]);
  assert.equal(r.status, 200);
  const { payload } = await verifiedClaims(h, String(r.body.token));
  assert.equal(payload.sub, '');
  assert.deepEqual(payload.access, [{ type: 'repository', name: 'public/lib', actions: ['pull'] }]);
});

test('anonymous asking for offline_token gets no refresh token', async () => {
  const r = await getToken(h, [['offline_token', 'true'], ['client_id', 'docker'], ['service', SERVICE]]);
  assert.equal(r.status, 200);
  assert.equal(r.body.refresh_token, undefined);
});

test('docker login: offline_token=true with client_id returns a refresh_token', async () => {
  const r = await getToken(h, [['account', 'alice'], ['client_id', 'docker'], ['offline_token', 'true'], ['service', SERVICE]], aliceAuth());
  assert.equal(r.status, 200);
  assert.match(String(r.body.refresh_token), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(!h.logs().includes(String(r.body.refresh_token)), 'refresh token must not be logged');
});

test('offline_token without client_id is a clear 400', async () => {
  const r = await getToken(h, [['offline_token', 'true'], ['service', SERVICE]], aliceAuth());
  assert.equal(r.status, 400);
  assert.equal((r.body.errors as Array<{ code: string }>)[0].code, 'REQUEST_INVALID');
  assert.match(r.text, /client_id/);
});

test('wrong password → 401 UNAUTHORIZED JSON with WWW-Authenticate: Basic', async () => {
  const r = await getToken(h, [['account', 'alice'], ['service', SERVICE]], basic('alice', 'wrong-password'));
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="/);
  assert.deepEqual(r.body, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });
  assert.ok(!h.logs().includes('wrong-password'), 'passwords must not be logged');
});

test('user enumeration: unknown user, wrong password and disabled user answer identically', async () => {
  await createUser(h, 'dora', 'dora-password');
  const disabled = await adminApi(h, 'PATCH', '/users/dora', { disabled: true });
  assert.equal(disabled.status, 200);
  const unknown = await getToken(h, [['service', SERVICE]], basic('nobody-here', 'whatever-pw'));
  const wrong = await getToken(h, [['service', SERVICE]], basic('alice', 'whatever-pw'));
  const off = await getToken(h, [['service', SERVICE]], basic('dora', 'dora-password'));
  for (const r of [wrong, off]) {
    assert.equal(r.status, unknown.status);
    assert.equal(r.text, unknown.text);
    assert.equal(r.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
  }
  assert.equal(unknown.status, 401);
});

test('malformed or non-Basic Authorization → 401', async () => {
  for (const header of ['Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Bearer abc', 'Digest x']) {
    const r = await getToken(h, [['service', SERVICE]], header);
    assert.equal(r.status, 401, header);
    assert.equal((r.body.errors as Array<{ code: string }>)[0].code, 'UNAUTHORIZED');
  }
});

test('wrong service → 400 naming the expected service; missing service means ours', async () => {
  const wrong = await getToken(h, [['service', 'other-registry'], ['scope', 'repository:team/app:pull']], aliceAuth());
  assert.equal(wrong.status, 400);
  assert.match(String((wrong.body.errors as Array<{ message: string }>)[0].message), new RegExp(SERVICE));
  const missing = await getToken(h, [['scope', 'repository:team/app:pull']], aliceAuth());
  assert.equal(missing.status, 200);
  assert.equal((await verifiedClaims(h, String(missing.body.token))).payload.aud, SERVICE);
});

test('account that differs from the Basic user → 400; service given twice → 400', async () => {
  const mismatch = await getToken(h, [['account', 'mallory'], ['service', SERVICE]], aliceAuth());
  assert.equal(mismatch.status, 400);
  const twice = await getToken(h, [['service', SERVICE], ['service', SERVICE]], aliceAuth());
  assert.equal(twice.status, 400);
});

test('grant changes take effect on the next token request', async () => {
  const scope: Array<[string, string]> = [['scope', 'repository:fresh/app:pull'], ['service', SERVICE]];
  assert.deepEqual(accessOf(String((await getToken(h, scope, aliceAuth())).body.token)), []);
  const added = await adminApi(h, 'POST', '/grants', { subject: 'user:alice', pattern: 'fresh/app', actions: ['pull'] });
  assert.equal(added.status, 201);
  assert.deepEqual(accessOf(String((await getToken(h, scope, aliceAuth())).body.token)), [{ type: 'repository', name: 'fresh/app', actions: ['pull'] }]);
  assert.equal((await adminApi(h, 'DELETE', `/grants/${String(added.body.id)}`)).status, 204);
  assert.deepEqual(accessOf(String((await getToken(h, scope, aliceAuth())).body.token)), []);
});

test('group membership changes take effect on the next token request', async () => {
  assert.equal((await adminApi(h, 'POST', '/groups', { name: 'builders' })).status, 201);
  assert.equal((await adminApi(h, 'POST', '/grants', { subject: 'group:builders', pattern: 'build/**', actions: 'pull,push' })).status, 201);
  const scope: Array<[string, string]> = [['scope', 'repository:build/a/b:push'], ['service', SERVICE]];
  assert.deepEqual(accessOf(String((await getToken(h, scope, aliceAuth())).body.token)), []);
  assert.equal((await adminApi(h, 'PUT', '/groups/builders/members/alice')).status, 204);
  assert.deepEqual(accessOf(String((await getToken(h, scope, aliceAuth())).body.token)), [{ type: 'repository', name: 'build/a/b', actions: ['push'] }]);
});

test('admins get the catalog and everything they ask for', async () => {
  const r = await getToken(h, [['scope', 'registry:catalog:*'], ['scope', 'repository:any/repo:pull,push,delete'], ['service', SERVICE]], basic('admin', 'admin-password-for-tests'));
  assert.deepEqual(accessOf(String(r.body.token)), [
    { type: 'registry', name: 'catalog', actions: ['*'] },
    { type: 'repository', name: 'any/repo', actions: ['pull', 'push', 'delete'] },
  ]);
});

test('every token request is audited with requested and granted scopes, never a secret', async () => {
  await getToken(h, [['scope', 'repository:team/audit:pull,delete'], ['service', SERVICE], ['client_id', 'audit-test']], aliceAuth());
  const page = await adminApi(h, 'GET', '/audit?action=token.issue&actor=alice&limit=50');
  const entry = (page.body.entries as Array<{ outcome: string; clientAddress: string; details: Record<string, unknown> }>).find(
    (e) => e.details.clientId === 'audit-test',
  );
  assert.ok(entry, 'token request not audited');
  assert.equal(entry.outcome, 'ok');
  assert.match(entry.clientAddress, /127\.0\.0\.1/);
  assert.deepEqual(entry.details.requested, ['repository:team/audit:pull,delete']);
  assert.deepEqual(entry.details.granted, ['repository:team/audit:pull']);
  const all = await adminApi(h, 'GET', '/audit?limit=500');
  assert.ok(!all.text.includes('alice-password') && !all.text.includes('wrong-password'), 'a password reached the audit trail');
  const refused = (all.body.entries as Array<{ outcome: string; actor: string; details: { reason?: string } }>).find((e) => e.outcome === 'denied' && e.actor === 'alice');
  assert.equal(refused?.details.reason, 'password');
});
