/**
 * `dockyard tls self-signed HOST [--ip IP]... [--dns NAME]... [--out DIR] [--days N]`:
 * a self-signed HTTPS certificate for the registry and auth service, the way the classic
 * "deploy a registry" walkthrough makes one with openssl, but with the subjectAltNames that
 * Go clients (docker, podman, skopeo) insist on; a CN alone is ignored by them since Go 1.15.
 * The certificate is not a CA (cA:FALSE): clients trust it directly as their `ca.crt`,
 * and strict TLS stacks refuse a CA certificate used as a server certificate.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { createSelfSignedCertificate, type SubjectAltName } from '../../../shared/crypto/x509.js';
import { UsageError, type ParsedArgs } from './args.js';

/** What to put in the certificate and where to write it. */
export interface SelfSignedRequest {
  /** DNS name or IP address clients use; also the file names (HOST.crt, HOST.key). */
  host: string;
  /** Extra IP addresses clients may connect to. */
  ips: readonly string[];
  /** Extra DNS names (a leading `*.` makes a wildcard). */
  dnsNames: readonly string[];
  /** Directory for the two files; created when missing. */
  outDir: string;
  days: number;
}

/** The files written and what the certificate says. */
export interface WrittenCertificate {
  certificatePath: string;
  keyPath: string;
  /** subjectAltNames as `DNS:name` / `IP:address`, in certificate order. */
  subjectAltNames: string[];
  notAfter: string;
  fingerprint256: string;
}

const DEFAULT_DAYS = 365;
const MAX_DAYS = 3650;
const DEFAULT_OUT_DIR = 'certs';
const REGISTRY_PORT = 5000;

/** True for a DNS host name: dot-separated labels of letters, digits and inner hyphens. */
function isDnsName(name: string, allowWildcard: boolean): boolean {
  const labels = (allowWildcard && name.startsWith('*.') ? name.slice(2) : name).split('.');
  return name.length <= 253 && labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

function subjectAltNamesFor(request: SelfSignedRequest): SubjectAltName[] {
  if (!isIP(request.host) && !isDnsName(request.host, false)) {
    throw new UsageError(`HOST must be a DNS name or an IP address, got ${JSON.stringify(request.host)}`);
  }
  for (const ip of request.ips) if (!isIP(ip)) throw new UsageError(`--ip needs an IPv4 or IPv6 address, got ${JSON.stringify(ip)}`);
  for (const dns of request.dnsNames) {
    if (!isDnsName(dns, true)) throw new UsageError(`--dns needs a DNS name, got ${JSON.stringify(dns)}`);
  }
  const entries: SubjectAltName[] = [];
  const seen = new Set<string>();
  const add = (entry: SubjectAltName, key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  const hostIsIp = isIP(request.host) !== 0;
  add(hostIsIp ? { ip: request.host } : { dns: request.host }, `${hostIsIp ? 'IP' : 'DNS'}:${request.host.toLowerCase()}`);
  for (const dns of request.dnsNames) add({ dns }, `DNS:${dns.toLowerCase()}`);
  for (const ip of request.ips) add({ ip }, `IP:${ip.toLowerCase()}`);
  return entries;
}

/**
 * Creates an EC P-256 key and a self-signed serverAuth certificate for it, and writes
 * OUT/HOST.crt and OUT/HOST.key (mode 0600). Refuses to overwrite either file: replacing a
 * key in place would silently break every client that trusts the old certificate.
 */
export function writeSelfSignedCertificate(request: SelfSignedRequest): WrittenCertificate {
  const subjectAltNames = subjectAltNamesFor(request);
  if (!Number.isInteger(request.days) || request.days < 1 || request.days > MAX_DAYS) {
    throw new UsageError(`--days takes a whole number from 1 to ${MAX_DAYS}`);
  }
  const outDir = resolve(request.outDir);
  const certificatePath = join(outDir, `${request.host}.crt`);
  const keyPath = join(outDir, `${request.host}.key`);
  for (const path of [certificatePath, keyPath]) {
    if (existsSync(path)) {
      throw Object.assign(new Error(`${path} already exists; remove it first or choose another --out`), { code: 'EEXIST' });
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const { pem } = createSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: request.host,
    subjectAltNames,
    days: request.days,
    extendedKeyUsage: ['serverAuth'],
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  // The mode given at creation is narrowed by the umask but never widened; chmod pins it.
  chmodSync(keyPath, 0o600);
  writeFileSync(certificatePath, pem, { mode: 0o644, flag: 'wx' });
  const certificate = new X509Certificate(pem);
  return {
    certificatePath,
    keyPath,
    subjectAltNames: subjectAltNames.map((entry) => ('dns' in entry ? `DNS:${entry.dns}` : `IP:${entry.ip}`)),
    notAfter: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
  };
}

/** The lines telling an operator how to serve the certificate and how each client trusts it. */
export function clientSteps(host: string, written: WrittenCertificate): string[] {
  const { certificatePath: crt, keyPath: key } = written;
  const hostPort = `${isIP(host) === 6 ? `[${host}]` : host}:${REGISTRY_PORT}`;
  const lines = [
    `wrote ${crt} (the certificate; clients trust it as their CA)`,
    `wrote ${key} (the private key, mode 0600; it stays on the server)`,
    `subjectAltName ${written.subjectAltNames.join(', ')}; EC P-256; valid until ${written.notAfter}`,
    `SHA-256 fingerprint ${written.fingerprint256}`,
    '',
    'Serve it (the registry and the auth service may share it):',
    `  REGISTRY_HTTP_TLS_CERTIFICATE=${crt} REGISTRY_HTTP_TLS_KEY=${key}`,
    `  AUTH_HTTP_TLS_CERTIFICATE=${crt} AUTH_HTTP_TLS_KEY=${key}`,
    '',
    `Trust it on every client (${REGISTRY_PORT} is the registry's port; use yours):`,
    `  docker:  sudo mkdir -p /etc/docker/certs.d/${hostPort}`,
    `           sudo cp ${crt} /etc/docker/certs.d/${hostPort}/ca.crt`,
    `  podman, skopeo, buildah:  mkdir -p CERTDIR && cp ${crt} CERTDIR/ca.crt`,
    '           and pass --cert-dir CERTDIR (login, push, pull, copy, inspect),',
    `           or install it as /etc/containers/certs.d/${hostPort}/ca.crt for every command`,
  ];
  if (/^127\./.test(host) || host === '::1' || host === 'localhost') {
    lines.push('  note: dockerd treats registries on 127.0.0.0/8 as insecure and skips certificate checks there');
  }
  return lines;
}

/** Runs `tls self-signed HOST …` from its parsed arguments. Throws UsageError on a bad command line. */
export function selfSignedFromArgs(args: ParsedArgs): WrittenCertificate {
  const host = args.need(2, 'HOST');
  const daysText = args.values.get('days');
  if (daysText !== undefined && !/^\d{1,5}$/.test(daysText)) throw new UsageError(`--days takes a whole number from 1 to ${MAX_DAYS}`);
  return writeSelfSignedCertificate({
    host,
    ips: args.lists.get('ip') ?? [],
    dnsNames: args.lists.get('dns') ?? [],
    outDir: args.values.get('out') ?? DEFAULT_OUT_DIR,
    days: daysText === undefined ? DEFAULT_DAYS : Number(daysText),
  });
}
