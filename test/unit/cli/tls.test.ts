// `npm run admin -- tls self-signed`: the files it writes are a certificate openssl accepts
// for a TLS server, with the SANs clients check, and a key only its owner can read; bad input
// is a usage error; nothing is overwritten; a real HTTPS handshake verifies against it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliIo } from '../../../services/auth/cli.js';
import { loadTlsOptions } from '../../../shared/http/tls.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-cli-tls-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in-process with an empty environment; returns exit code and output. */
async function admin(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await runCli(args, {}, io);
  return { code, out, err };
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8' });
}

describe('tls self-signed', () => {
  let outDir: string;
  let crt: string;
  let key: string;
  let printed: string;

  before(async () => {
    outDir = join(dir, 'certs');
    const result = await admin(['tls', 'self-signed', 'reg.example.com', '--ip', '127.0.0.1', '--ip', '::1', '--dns', 'registry.internal', '--out', outDir, '--days', '30']);
    assert.equal(result.code, 0, result.err);
    printed = result.out;
    crt = join(outDir, 'reg.example.com.crt');
    key = join(outDir, 'reg.example.com.key');
  });

  it('writes HOST.crt and HOST.key, the key readable by its owner only', () => {
    assert.ok(readFileSync(crt, 'utf8').startsWith('-----BEGIN CERTIFICATE-----'));
    assert.ok(readFileSync(key, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----'));
    assert.equal(statSync(key).mode & 0o777, 0o600);
    // The pair is what the services load at startup (certificate and key must match).
    assert.doesNotThrow(() => loadTlsOptions({ certificate: crt, key }, 'registry.http.tls'));
  });

  it('is a v3 server certificate with the SANs, serverAuth and no CA flag, as openssl reads it', () => {
    const text = openssl('x509', '-in', crt, '-noout', '-text');
    assert.match(text, /Subject: CN\s*=\s*reg\.example\.com/);
    assert.match(text, /Issuer: CN\s*=\s*reg\.example\.com/);
    assert.match(text, /DNS:reg\.example\.com, DNS:registry\.internal, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(text, /Extended Key Usage:\s*\n\s*TLS Web Server Authentication/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /NIST CURVE: P-256/);
    const days = (new Date(new X509Certificate(readFileSync(crt)).validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, `valid for ${days} days`);
  });

  it('verifies against itself as the CA, also for the sslserver purpose', () => {
    assert.match(openssl('verify', '-CAfile', crt, crt), /: OK/);
    assert.match(openssl('verify', '-purpose', 'sslserver', '-CAfile', crt, crt), /: OK/);
  });

  it('matches the host name and the IP addresses, nothing else', () => {
    const certificate = new X509Certificate(readFileSync(crt));
    assert.equal(certificate.checkHost('reg.example.com'), 'reg.example.com');
    assert.equal(certificate.checkHost('registry.internal'), 'registry.internal');
    assert.equal(certificate.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(certificate.checkIP('::1'), '::1');
    assert.equal(certificate.checkHost('other.example.com'), undefined);
    assert.equal(certificate.checkIP('127.0.0.2'), undefined);
  });

  it('lets a client that trusts it complete a verified HTTPS handshake by name and by IP', async () => {
    const server = https.createServer(loadTlsOptions({ certificate: crt, key }, 'registry.http.tls'), (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ca = readFileSync(crt);
    const get = (servername?: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/', ca, servername, agent: false }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
      });
    try {
      assert.equal(await get('reg.example.com'), 'ok');
      assert.equal(await get(), 'ok');
      await assert.rejects(get('wrong.example.com'), /altnames|Hostname\/IP does not match/);
    } finally {
      server.close();
    }
  });

  it('prints where the files went and the client steps', () => {
    assert.ok(printed.includes(`wrote ${crt}`));
    assert.ok(printed.includes(`wrote ${key}`));
    assert.ok(printed.includes(`REGISTRY_HTTP_TLS_CERTIFICATE=${crt} REGISTRY_HTTP_TLS_KEY=${key}`));
    assert.ok(printed.includes(`AUTH_HTTP_TLS_CERTIFICATE=${crt} AUTH_HTTP_TLS_KEY=${key}`));
    assert.ok(printed.includes(`sudo cp ${crt} /etc/docker/certs.d/reg.example.com:5000/ca.crt`));
    assert.match(printed, /--cert-dir CERTDIR/);
  });

  it('refuses to overwrite an existing certificate or key', async () => {
    const before = readFileSync(key, 'utf8');
    const result = await admin(['tls', 'self-signed', 'reg.example.com', '--out', outDir]);
    assert.equal(result.code, 1);
    assert.match(result.err, /reg\.example\.com\.crt already exists/);
    assert.equal(readFileSync(key, 'utf8'), before);
  });
});

describe('tls self-signed for an IP address', () => {
  it('puts the address in an IP SAN (a DNS SAN would not match it)', async () => {
    const outDir = join(dir, 'ip');
    const result = await admin(['tls', 'self-signed', '127.0.0.1', '--out', outDir]);
    assert.equal(result.code, 0, result.err);
    const certificate = new X509Certificate(readFileSync(join(outDir, '127.0.0.1.crt')));
    assert.equal(certificate.subjectAltName, 'IP Address:127.0.0.1');
    assert.equal(certificate.checkIP('127.0.0.1'), '127.0.0.1');
    assert.match(result.out, /dockerd treats registries on 127\.0\.0\.0\/8 as insecure/);
  });
});

describe('tls self-signed with bad input', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no host', ['tls', 'self-signed'], /missing HOST/],
    ['a path as host', ['tls', 'self-signed', '../etc/passwd'], /HOST must be a DNS name or an IP address/],
    ['a host with a space', ['tls', 'self-signed', 'reg example'], /HOST must be a DNS name or an IP address/],
    ['a label starting with a hyphen', ['tls', 'self-signed', '-reg.example.com'], /HOST must be a DNS name/],
    ['a bad --ip', ['tls', 'self-signed', 'reg.test', '--ip', '300.1.1.1'], /--ip needs an IPv4 or IPv6 address/],
    ['a bad --dns', ['tls', 'self-signed', 'reg.test', '--dns', 'a_b c'], /--dns needs a DNS name/],
    ['zero days', ['tls', 'self-signed', 'reg.test', '--days', '0'], /--days takes a whole number from 1 to 3650/],
    ['days that are not a number', ['tls', 'self-signed', 'reg.test', '--days', '1y'], /--days takes a whole number/],
    ['an unknown subcommand', ['tls', 'make', 'reg.test'], /unknown tls command make \(tls commands: self-signed\)/],
    ['an unknown flag', ['tls', 'self-signed', 'reg.test', '--key-size', '4096'], /unknown option --key-size/],
    ['--ip without a value', ['tls', 'self-signed', 'reg.test', '--ip'], /--ip needs a value/],
  ];
  for (const [name, args, expected] of cases) {
    it(`rejects ${name} with a usage error and writes nothing`, async () => {
      const outDir = join(dir, `bad-${name.replace(/\W+/g, '-')}`);
      const result = await admin(['--out', outDir, ...args]);
      assert.equal(result.code, 2, result.out);
      assert.match(result.err, expected);
      assert.equal(existsSync(outDir), false);
    });
  }
});

describe('npm run admin -- tls self-signed (a real process)', () => {
  it('exits 0 and writes into --out, even with a configuration that would not load', () => {
    const outDir = join(dir, 'process');
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, 'auth:\n  bcryptcots: 12\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', 'tls', 'self-signed', 'reg.test', '--out', outDir], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', DOCKYARD_CONFIG: broken },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(existsSync(join(outDir, 'reg.test.crt')));
    assert.ok(existsSync(join(outDir, 'reg.test.key')));
  });
});
