/**
 * X.509 v3 certificates (RFC 5280), self-signed or signed by a small CA, built from DER
 * pieces because Node can parse certificates but not create them. Used for the token
 * signing keys (their certificate is what a registry's rootcertbundle trusts and what the
 * x5c header carries) and for TLS server certificates with subjectAltNames.
 */
import { createHash, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as der from './asn1.js';

/** One subjectAltName entry. */
export type SubjectAltName = { dns: string } | { ip: string };

/** Extended key usages a certificate may be limited to. */
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

/** What a certificate says and which key pair it is for. */
export interface SelfSignedCertificateOptions {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
  subjectAltNames?: SubjectAltName[];
  /** Validity in days from notBefore. */
  days: number;
  /** A CA certificate may sign others (basicConstraints cA, keyUsage keyCertSign). */
  isCA?: boolean;
  /** Omitted means "any purpose", which is what token signing certificates need. */
  extendedKeyUsage?: ExtendedKeyUsage[];
  /** Start of validity; defaults to five minutes ago so small clock skew between hosts is harmless. */
  notBefore?: Date;
}

/** The CA that signs a certificate: its DER certificate and private key. */
export interface CertificateIssuer {
  certificateDer: Buffer;
  privateKey: KeyObject;
}

const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
} as const;

const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

/** How a key type signs a certificate: the algorithm identifier and the hash. */
function signatureAlgorithm(key: KeyObject): { identifier: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { identifier: der.sequence(der.oid(OID.ecdsaWithSha256)), hash: 'sha256' };
    if (curve === 'secp384r1') return { identifier: der.sequence(der.oid(OID.ecdsaWithSha384)), hash: 'sha384' };
    throw new TypeError(`unsupported EC curve ${curve ?? 'unknown'}: use P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    // RFC 4055: the parameters of sha256WithRSAEncryption are an explicit NULL.
    return { identifier: der.sequence(der.oid(OID.sha256WithRsaEncryption), der.nullValue()), hash: 'sha256' };
  }
  throw new TypeError(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}: use EC (P-256, P-384) or RSA`);
}

function name(commonName: string): Buffer {
  return der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8String(commonName))));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new TypeError(`invalid IP address in subjectAltName: ${ip}`);
  let text = ip.replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

function generalName(entry: SubjectAltName): Buffer {
  if ('dns' in entry) {
    // dNSName is an IA5String: international names must already be in punycode.
    if (!/^(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(entry.dns)) {
      throw new TypeError(`invalid DNS name in subjectAltName: ${entry.dns}`);
    }
    return der.implicitPrimitive(2, Buffer.from(entry.dns, 'ascii'));
  }
  return der.implicitPrimitive(7, ipBytes(entry.ip));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (what key identifiers hash). */
function subjectPublicKeyBits(spki: Buffer): Buffer {
  const [, bits] = der.readChildren(der.readElement(spki));
  if (!bits || bits.tag !== der.Tag.BIT_STRING) throw new TypeError('malformed SubjectPublicKeyInfo');
  return bits.content.subarray(1);
}

/** Wraps DER certificate bytes as a PEM block. */
export function certificateToPem(derBytes: Buffer): string {
  const lines = derBytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Every CERTIFICATE block of a PEM bundle as DER bytes (other block kinds are skipped). */
export function certificatesFromPem(pem: string): Buffer[] {
  const blocks = pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g);
  return [...blocks].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** The subject Name and key identifier of a CA certificate: what an issued certificate names as its issuer. */
function issuerIdentity(certificateDer: Buffer): { subject: Buffer; keyId: Buffer } {
  const [tbs] = der.readChildren(der.readElement(certificateDer));
  const fields = tbs ? der.readChildren(tbs) : [];
  // With the explicit [0] version first: serial, signature, issuer, validity, subject, spki, ..., [3] extensions.
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4];
  const spki = fields[offset + 5];
  if (!subject || !spki) throw new TypeError('malformed issuer certificate');
  const extensions = fields.find((f) => f.tag === 0xa3);
  const skiOid = der.oid(OID.subjectKeyIdentifier);
  for (const ext of extensions ? der.readChildren(der.readChildren(extensions)[0]!) : []) {
    const [id, ...rest] = der.readChildren(ext);
    // The issuer's own subjectKeyIdentifier wins: CAs made elsewhere may derive it differently.
    if (id?.encoded.equals(skiOid)) return { subject: subject.encoded, keyId: der.readElement(rest[rest.length - 1]!.content).content };
  }
  return { subject: subject.encoded, keyId: createHash('sha1').update(subjectPublicKeyBits(spki.encoded)).digest() };
}

/** Creates a self-signed X.509 v3 certificate for an EC (P-256/P-384) or RSA key pair. */
export function createSelfSignedCertificate(options: SelfSignedCertificateOptions): { der: Buffer; pem: string } {
  return createCertificate(options);
}

/**
 * Creates an X.509 v3 certificate for `publicKey`, signed by `issuer` (a CA certificate
 * and its key) or, without one, by `privateKey` itself.
 */
export function createCertificate(options: SelfSignedCertificateOptions & { issuer?: CertificateIssuer }): { der: Buffer; pem: string } {
  const { privateKey, publicKey, issuer } = options;
  if (privateKey.type !== 'private' || publicKey.type !== 'public') throw new TypeError('expected a private and a public key');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (!createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).equals(spki)) {
    throw new TypeError('the public key does not belong to the private key');
  }
  if (!Number.isFinite(options.days) || options.days <= 0) throw new RangeError('days must be a positive number');
  if (options.commonName === '') throw new TypeError('commonName must not be empty');

  const signingKey = issuer?.privateKey ?? privateKey;
  const algorithm = signatureAlgorithm(signingKey);
  const notBefore = options.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = new Date(notBefore.getTime() + options.days * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and never zero (RFC 5280 4.1.2.2)
  const keyId = createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
  const issuerFields = issuer ? issuerIdentity(issuer.certificateDer) : undefined;
  const authorityKeyId = issuerFields?.keyId ?? keyId;

  const usage: number[] = [KEY_USAGE.digitalSignature];
  if (publicKey.asymmetricKeyType === 'rsa') usage.push(KEY_USAGE.keyEncipherment);
  if (options.isCA) usage.push(KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign);

  const extensions = [
    extension(OID.basicConstraints, true, options.isCA ? der.sequence(der.boolean(true)) : der.sequence()),
    extension(OID.keyUsage, true, der.namedBits(usage)),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
    extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicitPrimitive(0, authorityKeyId))),
  ];
  if (options.subjectAltNames?.length) {
    extensions.push(extension(OID.subjectAltName, false, der.sequence(...options.subjectAltNames.map(generalName))));
  }
  if (options.extendedKeyUsage?.length) {
    extensions.push(extension(OID.extKeyUsage, false, der.sequence(...options.extendedKeyUsage.map((u) => der.oid(OID[u])))));
  }

  const subject = name(options.commonName);
  const tbs = der.sequence(
    der.explicit(0, der.integer(2n)), // v3
    der.integer(serial),
    algorithm.identifier,
    issuerFields?.subject ?? subject,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    subject,
    spki,
    der.explicit(3, der.sequence(...extensions)),
  );
  // X.509 carries ECDSA signatures in DER form (unlike JOSE, which uses r||s).
  const signature = sign(algorithm.hash, tbs, { key: signingKey, dsaEncoding: 'der' });
  const certificate = der.sequence(tbs, algorithm.identifier, der.bitString(signature));
  return { der: certificate, pem: certificateToPem(certificate) };
}
