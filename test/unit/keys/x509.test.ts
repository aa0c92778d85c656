import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as der from '../../../shared/crypto/asn1.js';
import { certificatesFromPem, createCertificate, createSelfSignedCertificate } from '../../../shared/crypto/x509.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-x509-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function pemFile(pem: string): string {
  const path = join(dir, `cert-${fileCount++}.pem`);
  writeFileSync(path, pem);
  return path;
}

function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-text', '-noout'], { input: pem, encoding: 'utf8' });
}

/** `openssl verify -CAfile ca cert`: exit status and output. */
function opensslVerify(caPem: string, certPem: string, extra: string[] = []): { ok: boolean; output: string } {
  const result = spawnSync('openssl', ['verify', ...extra, '-CAfile', pemFile(caPem), pemFile(certPem)], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('DER writer', () => {
  it('encodes INTEGERs minimally with a sign byte when the top bit is set', () => {
    assert.equal(der.integer(0n).toString('hex'), '020100');
    assert.equal(der.integer(127n).toString('hex'), '02017f');
    assert.equal(der.integer(128n).toString('hex'), '02020080');
    assert.equal(der.integer(Buffer.from([0, 0, 1])).toString('hex'), '020101');
  });

  it('encodes OIDs in base 128 and long lengths in long form', () => {
    assert.equal(der.oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
    assert.equal(der.octetString(Buffer.alloc(200)).subarray(0, 3).toString('hex'), '0481c8');
    assert.equal(der.octetString(Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
  });

  it('drops trailing zero bits of named bit strings (keyUsage digitalSignature + keyCertSign)', () => {
    assert.equal(der.namedBits([0, 5]).toString('hex'), '03020284');
  });

  it('reads back what it writes', () => {
    const encoded = der.sequence(der.integer(5n), der.utf8String('hé'));
    const children = der.readChildren(der.readElement(encoded));
    assert.deepEqual(children.map((c) => c.tag), [der.Tag.INTEGER, der.Tag.UTF8_STRING]);
    assert.equal(children[1]!.content.toString('utf8'), 'hé');
    assert.throws(() => der.readElement(encoded.subarray(0, encoded.length - 1)), RangeError);
  });
});

describe('createSelfSignedCertificate', () => {
  it('builds an EC P-256 certificate that openssl parses and verifies, with SANs', () => {
    const cert = createSelfSignedCertificate({
      ...ec,
      commonName: 'reg.test',
      subjectAltNames: [{ dns: 'reg.test' }, { dns: '*.reg.test' }, { ip: '127.0.0.1' }, { ip: '::1' }],
      days: 30,
    });
    const x509 = new X509Certificate(cert.der);
    assert.equal(x509.subject, 'CN=reg.test');
    assert.equal(x509.subjectAltName, 'DNS:reg.test, DNS:*.reg.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.ok(x509.verify(ec.publicKey));
    assert.equal(x509.ca, false);
    assert.deepEqual(certificatesFromPem(cert.pem), [cert.der]);

    const text = opensslText(cert.pem);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, /DNS:reg\.test, DNS:\*\.reg\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    const verified = opensslVerify(cert.pem, cert.pem);
    assert.ok(verified.ok, verified.output);
  });

  it('builds an RSA CA certificate (sha256WithRSAEncryption) that openssl verifies', () => {
    const cert = createSelfSignedCertificate({ ...rsa, commonName: 'Dockyard test CA', days: 10, isCA: true });
    const text = opensslText(cert.pem);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /CA:TRUE/);
    assert.match(text, /Certificate Sign, CRL Sign/);
    assert.equal(new X509Certificate(cert.der).ca, true);
    const verified = opensslVerify(cert.pem, cert.pem);
    assert.ok(verified.ok, verified.output);
  });

  it('issues a TLS server certificate from a CA that openssl accepts for sslserver, and no other CA does', () => {
    const ca = createSelfSignedCertificate({ ...ec, commonName: 'Test CA', days: 30, isCA: true });
    const leaf = createCertificate({
      ...rsa,
      commonName: 'localhost',
      subjectAltNames: [{ dns: 'localhost' }, { ip: '127.0.0.1' }],
      extendedKeyUsage: ['serverAuth'],
      days: 5,
      issuer: { certificateDer: ca.der, privateKey: ec.privateKey },
    });
    const x509 = new X509Certificate(leaf.der);
    assert.equal(x509.issuer, 'CN=Test CA');
    assert.ok(x509.checkIssued(new X509Certificate(ca.der)));
    const verified = opensslVerify(ca.pem, leaf.pem, ['-purpose', 'sslserver']);
    assert.ok(verified.ok, verified.output);

    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherCa = createSelfSignedCertificate({ ...otherKey, commonName: 'Test CA', days: 30, isCA: true });
    assert.equal(opensslVerify(otherCa.pem, leaf.pem).ok, false);
  });

  it('names a CA made by openssl by that CA\'s own subjectKeyIdentifier', () => {
    const keyPath = join(dir, 'foreign-ca.key');
    const certPath = join(dir, 'foreign-ca.crt');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=Foreign CA',
      '-addext', 'subjectKeyIdentifier=0102030405', '-addext', 'authorityKeyIdentifier=keyid:always',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', keyPath, '-out', certPath,
    ], { stdio: 'ignore' });
    const caCert = new X509Certificate(readFileSync(certPath));
    const leaf = createCertificate({
      ...ec,
      commonName: 'leaf',
      days: 1,
      issuer: { certificateDer: caCert.raw, privateKey: createPrivateKey(readFileSync(keyPath)) },
    });
    assert.match(opensslText(leaf.pem), /X509v3 Authority Key Identifier: \n\s+(keyid:)?01:02:03:04:05\n/);
    const verified = opensslVerify(readFileSync(certPath, 'utf8'), leaf.pem);
    assert.ok(verified.ok, verified.output);
  });

  it('spans the days asked for and switches to GeneralizedTime after 2049', () => {
    const notBefore = new Date('2049-12-31T00:00:00Z');
    const cert = createSelfSignedCertificate({ ...ec, commonName: 'far', days: 2, notBefore });
    const x509 = new X509Certificate(cert.der);
    assert.equal(Date.parse(x509.validFrom), notBefore.getTime());
    assert.equal(Date.parse(x509.validTo), Date.parse('2050-01-02T00:00:00Z'));
    assert.match(opensslText(cert.pem), /Not After : Jan {2}2 00:00:00 2050 GMT/);
  });

  it('refuses unsupported keys, mismatched pairs and invalid names', () => {
    const ed = generateKeyPairSync('ed25519');
    assert.throws(() => createSelfSignedCertificate({ ...ed, commonName: 'x', days: 1 }), /unsupported key type ed25519/);
    assert.throws(() => createSelfSignedCertificate({ privateKey: ec.privateKey, publicKey: rsa.publicKey, commonName: 'x', days: 1 }), /does not belong/);
    assert.throws(() => createSelfSignedCertificate({ ...ec, commonName: 'x', days: 1, subjectAltNames: [{ dns: 'bad name' }] }), /invalid DNS name/);
    assert.throws(() => createSelfSignedCertificate({ ...ec, commonName: 'x', days: 1, subjectAltNames: [{ ip: '300.1.1.1' }] }), /invalid IP/);
    assert.throws(() => createSelfSignedCertificate({ ...ec, commonName: 'x', days: 0 }), /days/);
  });
});
