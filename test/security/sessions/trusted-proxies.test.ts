// Behind a reverse proxy: a forwarding header is believed only from a trusted proxy (here
// the loopback source address 127.0.0.2, trusted as 127.0.0.2/32). Requests from 127.0.0.1
// are "anyone else": their X-Forwarded-For is ignored. The believed address is what the
// audit trail records, what the access logs print and what login throttling counts.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { basic, createUser, SERVICE, type AuthHarness } from '../../api/auth/harness.js';
import { startAuth, startRegistry, type RegistryUnderTest } from '../services.js';

const PROXY = '127.0.0.2';
const OTHER = '127.0.0.1';
const TRUSTED = { trustedProxies: [`${PROXY}/32`] };

/** A GET from source address `from` with extra headers; resolves to the status. */
function getFrom(url: string, from: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A failed password login for `account` from `from`. */
function failedLogin(h: AuthHarness, account: string, from: string, headers: Record<string, string> = {}): Promise<number> {
  return getFrom(`${h.url}/token?service=${SERVICE}`, from, { authorization: basic(account, 'wrong-password'), ...headers });
}

async function auditAddresses(h: AuthHarness, actor: string): Promise<string[]> {
  const rows: Array<{ client_address: string }> = await h.db('audit').where({ actor, action: 'token.issue' }).orderBy('id').select('client_address');
  return rows.map((row) => row.client_address);
}

/** The `client` of every access log line for `path`. */
function loggedClients(logs: string, path: string): string[] {
  return logs
    .split('\n')
    .filter((line) => line.includes('"msg":"request"'))
    .map((line) => JSON.parse(line) as { path: string; client: string })
    .filter((entry) => entry.path === path)
    .map((entry) => entry.client);
}

describe('trusted proxies', () => {
  let auth: AuthHarness | undefined;
  let registry: RegistryUnderTest | undefined;
  afterEach(async () => {
    await auth?.close();
    await registry?.close();
    auth = registry = undefined;
  });

  it('auth: X-Forwarded-For from an untrusted peer is ignored; from the trusted proxy it is believed (audit and access log)', async () => {
    auth = await startAuth({ proxies: TRUSTED });
    assert.equal(await failedLogin(auth, 'spoofer', OTHER, { 'x-forwarded-for': '203.0.113.9' }), 401);
    assert.equal(await failedLogin(auth, 'proxied', PROXY, { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' }), 401);
    assert.equal(await failedLogin(auth, 'direct', PROXY), 401);
    assert.deepEqual(await auditAddresses(auth, 'spoofer'), [OTHER]);
    assert.deepEqual(await auditAddresses(auth, 'proxied'), ['203.0.113.5']);
    assert.deepEqual(await auditAddresses(auth, 'direct'), [PROXY]);
    assert.deepEqual(loggedClients(auth.logs(), '/token'), [OTHER, '203.0.113.5', PROXY]);
  });

  it('auth: RFC 7239 Forwarded is read when configured, and X-Forwarded-For then is not', async () => {
    auth = await startAuth({ proxies: { ...TRUSTED, proxyHeader: 'forwarded' } });
    assert.equal(await failedLogin(auth, 'fwd', PROXY, { forwarded: 'for=198.51.100.1, for="[2001:db8::5]:4711";proto=https' }), 401);
    assert.equal(await failedLogin(auth, 'xff', PROXY, { 'x-forwarded-for': '203.0.113.5' }), 401);
    assert.deepEqual(await auditAddresses(auth, 'fwd'), ['2001:db8::5']);
    assert.deepEqual(await auditAddresses(auth, 'xff'), [PROXY]);
  });

  it('auth: throttling counts per believed address; an untrusted client cannot escape it by varying the header', async () => {
    const limit = 3;
    auth = await startAuth({ proxies: TRUSTED, env: { AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: String(limit) } });
    await createUser(auth, 'owner', 'owner-password');
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    for (let i = 0; i < limit; i++) assert.equal(await failedLogin(auth, `guess-${i}`, PROXY, attacker), 401, `guess ${i}`);
    assert.equal(await failedLogin(auth, 'guess-next', PROXY, attacker), 429, 'the attacker behind the proxy is throttled');
    const ownerLogin = (headers: Record<string, string>) =>
      getFrom(`${auth!.url}/token?service=${SERVICE}`, PROXY, { authorization: basic('owner', 'owner-password'), ...headers });
    assert.equal(await ownerLogin({ 'x-forwarded-for': '203.0.113.77' }), 200, 'another client behind the same proxy is not');
    assert.equal(await ownerLogin({}), 200, 'nor the proxy itself');
    for (let i = 0; i < limit; i++) {
      assert.equal(await failedLogin(auth, `direct-${i}`, OTHER, { 'x-forwarded-for': `198.51.100.${i}` }), 401);
    }
    assert.equal(await failedLogin(auth, 'direct-next', OTHER, { 'x-forwarded-for': '198.51.100.200' }), 429, 'a fresh spoofed address does not help');
  });

  it('auth: malformed headers from the trusted proxy are ignored safely (counted under the proxy)', async () => {
    auth = await startAuth({ proxies: TRUSTED });
    const garbage = ['not-an-ip', '<script>alert(1)</script>', ',,,', '999.1.1.1', `${'1.'.repeat(4000)}1`, 'unknown'];
    for (const [i, value] of garbage.entries()) assert.equal(await failedLogin(auth, `garbage-${i}`, PROXY, { 'x-forwarded-for': value }), 401, value);
    for (const i of garbage.keys()) assert.deepEqual(await auditAddresses(auth, `garbage-${i}`), [PROXY]);
  });

  it('registry: the access log shows the believed address, never a spoofed one', async () => {
    registry = await startRegistry({ proxies: TRUSTED });
    assert.equal(await getFrom(`${registry.url}/v2/`, OTHER, { 'x-forwarded-for': '203.0.113.9' }), 200);
    assert.equal(await getFrom(`${registry.url}/v2/`, PROXY, { 'x-forwarded-for': '203.0.113.5' }), 200);
    assert.equal(await getFrom(`${registry.url}/v2/`, PROXY, { 'x-forwarded-for': 'garbage' }), 200);
    assert.deepEqual(loggedClients(registry.logs(), '/v2/'), [OTHER, '203.0.113.5', PROXY]);
  });

  it('registry without trusted proxies: every forwarding header is ignored', async () => {
    registry = await startRegistry();
    assert.equal(await getFrom(`${registry.url}/v2/`, PROXY, { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.6' }), 200);
    assert.deepEqual(loggedClients(registry.logs(), '/v2/'), [PROXY]);
  });
});
