// TLS loading: real certificates and keys made with openssl; each startup error names the
// setting; a matching pair serves HTTPS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../shared/config/index.js';
import { createServer, listen, loadTlsOptions } from '../../../shared/http/tls.js';

let dir: string;
const file = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-tls-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256', '-days', '2',
    '-subj', '/CN=reg.test', '-addext', 'subjectAltName=DNS:reg.test,IP:127.0.0.1', '-keyout', file('server.key'), '-out', file('server.crt'));
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('other.key'));
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file('rsa.key'));
  openssl('pkey', '-in', file('server.key'), '-aes256', '-passout', 'pass:secret', '-out', file('encrypted.key'));
  writeFileSync(file('garbage.pem'), 'this is not a certificate\n');
  writeFileSync(file('broken.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts loadTlsOptions throws a ConfigError for `key` whose message matches `hint`. */
function assertTlsError(tls: { certificate: string; key: string }, key: string, hint: RegExp): void {
  assert.throws(
    () => loadTlsOptions(tls, 'registry.http.tls'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.key, key);
      assert.match(err.message, hint);
      return true;
    },
  );
}

const CERT = 'registry.http.tls.certificate (REGISTRY_HTTP_TLS_CERTIFICATE)';
const KEY = 'registry.http.tls.key (REGISTRY_HTTP_TLS_KEY)';

describe('loadTlsOptions', () => {
  it('returns the PEM pair for a matching certificate and key', () => {
    const options = loadTlsOptions({ certificate: file('server.crt'), key: file('server.key') }, 'registry.http.tls');
    assert.match(String(options.cert), /BEGIN CERTIFICATE/);
    assert.match(String(options.key), /PRIVATE KEY/);
  });

  it('names the certificate setting when its file is missing', () => {
    assertTlsError({ certificate: file('absent.crt'), key: file('server.key') }, CERT, /cannot read certificate file .*absent\.crt: no such file/);
  });

  it('names the key setting when its file is missing', () => {
    assertTlsError({ certificate: file('server.crt'), key: file('absent.key') }, KEY, /cannot read key file .*absent\.key: no such file/);
  });

  it('rejects a directory as a file', () => {
    assertTlsError({ certificate: dir, key: file('server.key') }, CERT, /is a directory/);
  });

  it('rejects files that are not PEM', () => {
    assertTlsError({ certificate: file('garbage.pem'), key: file('server.key') }, CERT, /not a PEM certificate/);
    assertTlsError({ certificate: file('broken.crt'), key: file('server.key') }, CERT, /not a PEM certificate/);
    assertTlsError({ certificate: file('server.crt'), key: file('garbage.pem') }, KEY, /not a PEM private key/);
    assertTlsError({ certificate: file('server.crt'), key: file('server.crt') }, KEY, /not a PEM private key/);
  });

  it('rejects a key that does not belong to the certificate', () => {
    assertTlsError({ certificate: file('server.crt'), key: file('other.key') }, KEY, /does not match the certificate .*CN=reg\.test/);
    assertTlsError({ certificate: file('server.crt'), key: file('rsa.key') }, KEY, /does not match/);
  });

  it('rejects an encrypted key with a hint', () => {
    assertTlsError({ certificate: file('server.crt'), key: file('encrypted.key') }, KEY, /encrypted private key; decrypt it first/);
  });

  it('names the YAML path alone for a section outside the settings table', () => {
    assert.throws(
      () => loadTlsOptions({ certificate: file('absent.crt'), key: file('server.key') }, 'metrics.tls'),
      (err: unknown) => err instanceof ConfigError && err.key === 'metrics.tls.certificate',
    );
  });
});

describe('createServer', () => {
  it('serves HTTPS with the configured pair', async () => {
    const server = createServer((_req, res) => res.end('secure'), {
      host: '127.0.0.1',
      port: 0,
      tls: { certificate: file('server.crt'), key: file('server.key') },
    });
    assert.ok(server instanceof https.Server);
    const address: AddressInfo = await listen(server, { host: '127.0.0.1', port: 0 });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: address.port, path: '/', ca: readFileSync(file('server.crt')), servername: 'reg.test' }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      assert.equal(body, 'secure');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('serves plain HTTP without TLS settings and fails fast on a bad pair', async () => {
    const server = createServer((_req, res) => res.end('plain'), { host: '127.0.0.1', port: 0 });
    const address = await listen(server, { host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`http://127.0.0.1:${address.port}/`);
      assert.equal(await response.text(), 'plain');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.throws(
      () => createServer(() => undefined, { host: '127.0.0.1', port: 0, tls: { certificate: file('server.crt'), key: file('other.key') } }, { tlsKeyName: 'auth.http.tls' }),
      (err: unknown) => err instanceof ConfigError && err.key === 'auth.http.tls.key (AUTH_HTTP_TLS_KEY)',
    );
  });

  it('listen rejects when the port is taken', async () => {
    const first = createServer(() => undefined, { host: '127.0.0.1', port: 0 });
    const { port } = await listen(first, { host: '127.0.0.1', port: 0 });
    const second = createServer(() => undefined, { host: '127.0.0.1', port });
    try {
      await assert.rejects(listen(second, { host: '127.0.0.1', port }), /EADDRINUSE/);
    } finally {
      await new Promise((resolve) => first.close(resolve));
    }
  });
});
