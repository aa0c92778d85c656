/**
 * HTTPS for both services: loads the configured certificate and key at startup with
 * errors that name the setting (missing file, unreadable, not PEM, key not matching the
 * certificate), and creates the http or https server for a ListenConfig.
 */
import { createPublicKey, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ConfigError, settingAt, type ListenConfig } from '../config/index.js';

/** How a setting is named in TLS errors: YAML path plus environment name when known. */
function settingName(keyName: string, field: 'certificate' | 'key'): string {
  const yaml = `${keyName}.${field}`;
  const setting = settingAt(yaml);
  return setting ? `${yaml} (${setting.env})` : yaml;
}

function readPem(path: string, name: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code ?? 'unreadable';
    throw new ConfigError(name, what, undefined, `cannot read ${what} ${path}: ${reason}`);
  }
}

function parseCertificate(pem: string, path: string, name: string): X509Certificate {
  const problem = `${path} is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)`;
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(name, 'a PEM certificate', undefined, problem);
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError(name, 'a PEM certificate', undefined, problem);
  }
}

function parsePrivateKey(pem: string, path: string, name: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError(name, 'a PEM private key', undefined, `${path} is not a PEM private key (expected -----BEGIN ... PRIVATE KEY-----)`);
  }
  if (pem.includes('ENCRYPTED')) {
    throw new ConfigError(name, 'an unencrypted private key', undefined, `${path} is an encrypted private key; decrypt it first (openssl pkey -in KEY -out PLAIN)`);
  }
  try {
    return createPrivateKey(pem);
  } catch {
    throw new ConfigError(name, 'a PEM private key', undefined, `${path} holds a PEM block that is not a usable private key`);
  }
}

/**
 * Reads and checks the certificate and key; `keyName` is the YAML path of the TLS
 * section (e.g. `registry.http.tls`) so errors name the setting.
 */
export function loadTlsOptions(tls: { certificate: string; key: string }, keyName: string): https.ServerOptions {
  const certName = settingName(keyName, 'certificate');
  const keyNameFull = settingName(keyName, 'key');
  const certPem = readPem(tls.certificate, certName, 'certificate file');
  const keyPem = readPem(tls.key, keyNameFull, 'key file');
  const certificate = parseCertificate(certPem, tls.certificate, certName);
  const privateKey = parsePrivateKey(keyPem, tls.key, keyNameFull);
  const fromCert = certificate.publicKey.export({ type: 'spki', format: 'der' });
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!fromCert.equals(fromKey)) {
    throw new ConfigError(
      keyNameFull,
      'the key of the certificate',
      undefined,
      `${tls.key} does not match the certificate ${tls.certificate} (subject ${certificate.subject.replace(/\n/g, ', ')})`,
    );
  }
  return { cert: certPem, key: keyPem, minVersion: 'TLSv1.2' };
}

/** Options for createServer. */
export interface ServerOptions {
  /** YAML path of the TLS section, for errors (default `http.tls`). */
  tlsKeyName?: string;
  /** A connection that sends or receives nothing for this long is closed (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Request headers must be complete within this long (slow-loris); default Node's 60 s. */
  headersTimeoutMs?: number;
}

/** An http or https server (not yet listening) for the handler, per the listen configuration. */
export function createServer(
  handler: http.RequestListener,
  listen: ListenConfig,
  options: ServerOptions = {},
): http.Server | https.Server {
  // Pushing a large layer over a slow link outlasts Node's 5-minute requestTimeout, so the
  // whole-request limit is off and an idle timeout stops stalled clients instead.
  const base: http.ServerOptions = { requestTimeout: 0 };
  if (options.headersTimeoutMs !== undefined) {
    base.headersTimeout = options.headersTimeoutMs;
    // Node enforces the headers timeout in a periodic sweep (every 30 s by default), so a
    // slow client would otherwise keep its connection for up to 30 s past the deadline.
    base.connectionsCheckingInterval = Math.min(30_000, Math.max(100, Math.floor(options.headersTimeoutMs / 4)));
  }
  const server = listen.tls
    ? https.createServer({ ...base, ...loadTlsOptions(listen.tls, options.tlsKeyName ?? 'http.tls') }, handler)
    : http.createServer(base, handler);
  server.setTimeout(options.idleTimeoutMs ?? 5 * 60_000);
  return server;
}

/** Starts listening on host:port; resolves with the bound address (port 0 picks a free port). */
export function listen(server: http.Server, at: { host: string; port: number }): Promise<AddressInfo> {
  return new Promise((resolvePromise, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      resolvePromise(server.address() as AddressInfo);
    });
  });
}
