// Which address a request counts under: a forwarding header is believed only from a
// trusted proxy, walked from the right past further trusted proxies; garbage never wins.
// Also the settings that configure it (list forms, a bad entry stops the start).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClientAddressResolver } from '../../../shared/http/client-address.js';
import { ConfigError, loadAuthConfig, loadRegistryConfig } from '../../../shared/config/index.js';

const PROXIES = ['10.0.0.10', '10.1.0.0/16', '2001:db8:1::/64', '::1'];
const xff = new ClientAddressResolver(PROXIES, 'x-forwarded-for');
const forwarded = new ClientAddressResolver(PROXIES, 'forwarded');

describe('ClientAddressResolver with X-Forwarded-For', () => {
  const cases: Array<[string, string, IncomingHttpHeaders, string]> = [
    ['untrusted peer: its spoofed header is ignored', '198.51.100.7', { 'x-forwarded-for': '203.0.113.5' }, '198.51.100.7'],
    ['trusted peer without a header: the peer', '10.0.0.10', {}, '10.0.0.10'],
    ['trusted peer: the address it appended', '10.0.0.10', { 'x-forwarded-for': '203.0.113.5' }, '203.0.113.5'],
    ['a client-sent prefix is not believed: the rightmost untrusted entry wins', '10.0.0.10', { 'x-forwarded-for': '1.2.3.4, 203.0.113.5' }, '203.0.113.5'],
    ['a chain of trusted proxies is skipped', '10.0.0.10', { 'x-forwarded-for': '203.0.113.5, 10.1.2.3, 10.1.9.9' }, '203.0.113.5'],
    ['repeated header lines (joined by node) keep their order', '10.0.0.10', { 'x-forwarded-for': ['1.2.3.4', '203.0.113.5'] }, '203.0.113.5'],
    ['IPv4 with a port', '10.0.0.10', { 'x-forwarded-for': '203.0.113.5:4711' }, '203.0.113.5'],
    ['IPv6 client, bracketed with a port', '10.0.0.10', { 'x-forwarded-for': '[2001:DB8::7]:4711' }, '2001:db8::7'],
    ['IPv6 trusted peer (mapped forms normalized)', '::1', { 'x-forwarded-for': '::ffff:203.0.113.5' }, '203.0.113.5'],
    ['IPv4-mapped IPv6 peer matches an IPv4 entry', '::ffff:10.0.0.10', { 'x-forwarded-for': '203.0.113.5' }, '203.0.113.5'],
    ['IPv6 CIDR', '2001:db8:1::99', { 'x-forwarded-for': '203.0.113.5' }, '203.0.113.5'],
    ['outside the IPv6 CIDR: not trusted', '2001:db8:2::99', { 'x-forwarded-for': '203.0.113.5' }, '2001:db8:2::99'],
    ['garbage entry: stops at the last address believed (the proxy)', '10.0.0.10', { 'x-forwarded-for': 'not-an-ip' }, '10.0.0.10'],
    ['garbage behind a trusted hop: the trusted hop', '10.0.0.10', { 'x-forwarded-for': '203.0.113.5, <script>, 10.1.0.1' }, '10.1.0.1'],
    ['empty entries are garbage too', '10.0.0.10', { 'x-forwarded-for': ',,' }, '10.0.0.10'],
    ['a huge header of trusted hops ends at the leftmost', '10.0.0.10', { 'x-forwarded-for': Array(2000).fill('10.1.0.1').join(',') }, '10.1.0.1'],
    ['the other header is not read', '10.0.0.10', { forwarded: 'for=203.0.113.5' }, '10.0.0.10'],
  ];
  for (const [what, peer, headers, expected] of cases) {
    it(what, () => assert.equal(xff.resolve(peer, headers), expected));
  }

  it('no proxies configured: always the peer, whatever the headers say', () => {
    const none = new ClientAddressResolver([]);
    assert.equal(none.resolve('10.0.0.10', { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.6' }), '10.0.0.10');
    assert.equal(none.resolve(undefined, { 'x-forwarded-for': '203.0.113.5' }), '', 'a socket already gone has no address');
  });
});

describe('ClientAddressResolver with Forwarded (RFC 7239)', () => {
  const cases: Array<[string, string, IncomingHttpHeaders, string]> = [
    ['for= of the last element', '10.0.0.10', { forwarded: 'for=1.2.3.4, for=203.0.113.5;proto=https;by=10.0.0.10' }, '203.0.113.5'],
    ['quoted IPv6 with a port, case-insensitive parameter name', '10.0.0.10', { forwarded: 'For="[2001:db8::7]:4711"' }, '2001:db8::7'],
    ['trusted hops skipped', '10.0.0.10', { forwarded: 'for=203.0.113.5, for=10.1.0.1' }, '203.0.113.5'],
    ['unknown ends the walk', '10.0.0.10', { forwarded: 'for=1.2.3.4, for=unknown' }, '10.0.0.10'],
    ['an obfuscated identifier ends the walk', '10.0.0.10', { forwarded: 'for=_hidden' }, '10.0.0.10'],
    ['an element without for= ends the walk', '10.0.0.10', { forwarded: 'proto=https' }, '10.0.0.10'],
    ['an unbalanced quote from the client cannot swallow the appended element', '10.0.0.10', { forwarded: 'for="1.2.3.4, for=203.0.113.5' }, '203.0.113.5'],
    ['untrusted peer: ignored', '198.51.100.7', { forwarded: 'for=203.0.113.5' }, '198.51.100.7'],
    ['X-Forwarded-For is not read', '10.0.0.10', { 'x-forwarded-for': '203.0.113.5' }, '10.0.0.10'],
  ];
  for (const [what, peer, headers, expected] of cases) {
    it(what, () => assert.equal(forwarded.resolve(peer, headers), expected));
  }
});

describe('trusted proxy settings', () => {
  it('reads a comma-separated environment value and a YAML list', () => {
    const fromEnv = loadRegistryConfig({ env: { REGISTRY_HTTP_TRUSTEDPROXIES: '10.0.0.10, 2001:db8::/32', REGISTRY_HTTP_PROXYHEADER: 'Forwarded' } });
    assert.deepEqual(fromEnv.http.trustedProxies, ['10.0.0.10', '2001:db8::/32']);
    assert.equal(fromEnv.http.proxyHeader, 'forwarded');
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-proxies-'));
    try {
      const file = join(dir, 'c.yml');
      writeFileSync(file, 'auth:\n  http:\n    trustedproxies: [127.0.0.2/32, "::1"]\n');
      const fromYaml = loadAuthConfig({ file, env: {} });
      assert.deepEqual(fromYaml.http.trustedProxies, ['127.0.0.2/32', '::1']);
      assert.equal(fromYaml.http.proxyHeader, 'x-forwarded-for');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [value, hint] of [
    ['10.0.0.300', /not an IP address/],
    ['10.0.0.0/33', /prefix length/],
    ['example.com', /not an IP address/],
    ['10.0.0.0/8/8', /not an IP address/],
  ] as const) {
    it(`refuses ${value} naming the setting`, () => {
      assert.throws(
        () => loadAuthConfig({ env: { AUTH_HTTP_TRUSTEDPROXIES: `127.0.0.1,${value}` } }),
        (err: unknown) => err instanceof ConfigError && err.key === 'AUTH_HTTP_TRUSTEDPROXIES' && hint.test(err.message),
      );
    });
  }

  it('refuses an unknown proxy header', () => {
    assert.throws(() => loadRegistryConfig({ env: { REGISTRY_HTTP_PROXYHEADER: 'x-real-ip' } }), /REGISTRY_HTTP_PROXYHEADER/);
  });
});
