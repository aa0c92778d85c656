// Issues 18.3 and 18.4: who may act on the admin API (/api/v1). A registry token, even an
// admin's, is no admin credential (only tokens for the admin API audience are), and no
// state-changing admin request is accepted with a content type or from an origin that a
// hostile web page could produce cross-site.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ADMIN_API_AUDIENCE } from '../../../services/auth/admin-gate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAuthService } from '../../../services/auth/main.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import { ADMIN_PASSWORD, adminApi, basic, createUser, getToken, ISSUER, postToken, SERVICE, testConfig, type AuthHarness, type Reply } from '../../api/auth/harness.js';
import { startAuth } from '../services.js';

function errorCode(reply: Reply): string | undefined {
  return (reply.body.errors as Array<{ code: string }> | undefined)?.[0]?.code;
}

describe('admin API credentials are distinct from registry tokens (18.3)', () => {
  let auth: AuthHarness;
  before(async () => {
    auth = await startAuth();
    await createUser(auth, 'plain', 'plain-password');
  });
  after(() => auth?.close());

  async function apiToken(username: string, password: string, extra: Record<string, string> = {}): Promise<Reply> {
    return postToken(auth, { grant_type: 'password', username, password, client_id: 'test-ui', service: ADMIN_API_AUDIENCE, ...extra });
  }

  it("an admin's registry token (repository:base/x:pull) cannot create a user: 401", async () => {
    const registryToken = await getToken(auth, [['service', SERVICE], ['scope', 'repository:base/x:pull']], basic('admin', ADMIN_PASSWORD));
    assert.equal(registryToken.status, 200, registryToken.text);
    const created = await adminApi(auth, 'POST', '/users', { name: 'intruder', password: 'intruder-password', admin: true }, `Bearer ${String(registryToken.body.token)}`);
    assert.equal(created.status, 401, created.text);
    assert.equal(errorCode(created), 'UNAUTHORIZED');
    assert.match(created.text, /registry tokens are refused/);
    assert.equal((await adminApi(auth, 'GET', '/users/intruder')).status, 404, 'no user was created');
    const listed = await adminApi(auth, 'GET', '/users', undefined, `Bearer ${String(registryToken.body.token)}`);
    assert.equal(listed.status, 401);
  });

  it('an admin API token from a password login works, carries no registry access and is refused by the registry audience', async () => {
    const reply = await apiToken('admin', ADMIN_PASSWORD, { scope: 'repository:base/x:pull,push registry:catalog:*' });
    assert.equal(reply.status, 200, reply.text);
    const token = String(reply.body.token);
    const claims = decodeJwt(token);
    assert.equal(claims.aud, ADMIN_API_AUDIENCE);
    assert.deepEqual(claims.access, [], 'requested registry scopes are ignored');
    const created = await adminApi(auth, 'POST', '/users', { name: 'made-by-token', password: 'made-by-token-pw' }, `Bearer ${token}`);
    assert.equal(created.status, 201, created.text);
    const jwks = (await (await fetch(`${auth.url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
    await assert.rejects(jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: SERVICE }), /aud/, 'a registry checking its audience refuses it');
  });

  it("a non-admin's API token is 403; robots and anonymous get none; GET /token never issues one", async () => {
    const plain = await apiToken('plain', 'plain-password');
    assert.equal(plain.status, 200, plain.text);
    assert.equal((await adminApi(auth, 'GET', '/users', undefined, `Bearer ${String(plain.body.token)}`)).status, 403);
    const robot = await adminApi(auth, 'POST', '/robots', { name: 'apibot' });
    assert.equal(robot.status, 201);
    const robotReply = await apiToken(String(robot.body.username), String(robot.body.secret));
    assert.equal(robotReply.status, 403, robotReply.text);
    const viaGet = await getToken(auth, [['service', ADMIN_API_AUDIENCE]], basic('admin', ADMIN_PASSWORD));
    assert.equal(viaGet.status, 400, viaGet.text);
    assert.equal((await getToken(auth, [['service', ADMIN_API_AUDIENCE]])).status, 400, 'no anonymous admin API token');
  });

  it('a session refresh token for the admin API renews API tokens; a registry refresh token (docker identity token) cannot', async () => {
    const session = await apiToken('admin', ADMIN_PASSWORD, { access_type: 'offline' });
    assert.equal(session.status, 200, session.text);
    const renewed = await postToken(auth, { grant_type: 'refresh_token', refresh_token: String(session.body.refresh_token), client_id: 'test-ui', service: ADMIN_API_AUDIENCE });
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal((await adminApi(auth, 'GET', '/users', undefined, `Bearer ${String(renewed.body.token)}`)).status, 200);

    const docker = await getToken(auth, [['service', SERVICE], ['client_id', 'docker'], ['offline_token', 'true']], basic('admin', ADMIN_PASSWORD));
    assert.equal(typeof docker.body.refresh_token, 'string');
    const crossed = await postToken(auth, { grant_type: 'refresh_token', refresh_token: String(docker.body.refresh_token), client_id: 'docker', service: ADMIN_API_AUDIENCE });
    assert.equal(crossed.status, 401, crossed.text);
  });
});

it('the registry service may not be named like the admin API audience: the auth service refuses to start', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-admin-audience-'));
  try {
    const config = testConfig(dataDir, { token: { issuer: ISSUER, service: ADMIN_API_AUDIENCE, ttlSeconds: 60 } });
    await assert.rejects(startAuthService(config, { logger: silentLogger(), env: { DOCKYARD_ADMIN_PASSWORD: ADMIN_PASSWORD }, announce: () => undefined }), /dockyard-admin-api/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('state-changing admin requests need JSON from our own origin (18.4)', () => {
  let auth: AuthHarness;
  before(async () => {
    auth = await startAuth();
  });
  after(() => auth?.close());

  async function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
    const response = await fetch(`${auth.url}/api/v1${path}`, { method, headers: { authorization: basic('admin', ADMIN_PASSWORD), ...headers }, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function robotRevoked(name: string): Promise<boolean> {
    const robots = (await adminApi(auth, 'GET', '/robots')).body.robots as Array<{ name: string; revoked: boolean }>;
    return robots.find((r) => r.name === `robot$${name}`)!.revoked;
  }

  async function signingKids(): Promise<string[]> {
    const jwks = (await (await fetch(`${auth.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    return jwks.keys.map((k) => k.kid).sort();
  }

  it('bodyless POSTs a cross-site form could send (no type, text/plain, form) are 415 and change nothing', async () => {
    assert.equal((await adminApi(auth, 'POST', '/robots', { name: 'victim' })).status, 201);
    const kids = await signingKids();
    const forgeable: Array<Record<string, string>> = [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }];
    for (const headers of forgeable) {
      for (const path of ['/robots/robot$victim/revoke', '/keys/rotate']) {
        const reply = await raw('POST', path, headers, headers['content-type'] ? '' : undefined);
        assert.equal(reply.status, 415, `${path} with ${JSON.stringify(headers)}: ${reply.text}`);
        assert.equal(errorCode(reply), 'UNSUPPORTED');
        assert.match(reply.text, /application\/json/);
      }
      const del = await raw('DELETE', '/robots/robot$victim', headers);
      assert.equal(del.status, 415, `DELETE with ${JSON.stringify(headers)}`);
    }
    assert.equal(await robotRevoked('victim'), false);
    assert.deepEqual(await signingKids(), kids, 'no key rotation happened');
  });

  it('a cross-site Origin or Sec-Fetch-Site is 403 even with a JSON content type', async () => {
    const json = { 'content-type': 'application/json' };
    const crossSite: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
    for (const headers of crossSite) {
      const reply = await raw('POST', '/robots/robot$victim/revoke', { ...json, ...headers });
      assert.equal(reply.status, 403, `${JSON.stringify(headers)}: ${reply.text}`);
      assert.equal(errorCode(reply), 'DENIED');
      assert.match(reply.text, /cross-(site|origin)/);
    }
    assert.equal(await robotRevoked('victim'), false);
  });

  it('JSON from the same origin (or a non-browser client) is accepted, an empty body included; reads need no content type', async () => {
    const sameOrigin = await raw('POST', '/robots/robot$victim/revoke', { 'content-type': 'application/json', origin: auth.url, 'sec-fetch-site': 'same-origin' });
    assert.equal(sameOrigin.status, 204, sameOrigin.text);
    assert.equal(await robotRevoked('victim'), true);
    const rotated = await raw('POST', '/keys/rotate', { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal((await raw('GET', '/robots', { origin: 'https://evil.example' })).status, 200, 'reads are not state-changing (CORS keeps their answers from other sites)');
  });
});
