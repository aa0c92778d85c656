/**
 * Shared pieces of the token tests: a key directory and its certificate bundle in a temp
 * dir, a JWKS server on 127.0.0.1:0, and a resolver wrapper that counts lookups (how the
 * cache tests see whether a verification reached the key resolver).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../../shared/crypto/keys.js';
import type { KeyResolver } from '../../../shared/crypto/token-verifier.js';

/** A temp dir with a KeyStore and its PEM bundle written to `bundlePath`. */
export interface KeyFixture {
  dir: string;
  keys: KeyStore;
  bundlePath: string;
  /** Rewrites the bundle file from the store's current published certificates. */
  writeBundle(): void;
  cleanup(): void;
}

/** Creates a key directory and bundle file under a fresh temp dir. */
export async function keyFixture(label: string, options: { retainSeconds?: number; publishAheadSeconds?: number } = {}): Promise<KeyFixture> {
  const dir = mkdtempSync(join(tmpdir(), `dockyard-${label}-`));
  // Rotations here need not wait for the next key's publication unless a test asks for it.
  const keys = await KeyStore.open(join(dir, 'keys'), { publishAheadSeconds: 0, ...options });
  const bundlePath = join(dir, 'bundle.pem');
  const writeBundle = (): void => writeFileSync(bundlePath, keys.certificatesPem());
  writeBundle();
  return { dir, keys, bundlePath, writeBundle, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An HTTP server answering every GET with `body()` as JSON; counts requests. */
export async function jsonServer(body: () => unknown): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Wraps a resolver and counts how often the verifier asked it for a key. */
export function countingResolver(inner: KeyResolver): KeyResolver & { calls: number } {
  const counter = {
    calls: 0,
    resolve(header: Parameters<KeyResolver['resolve']>[0]) {
      counter.calls++;
      return inner.resolve(header);
    },
  };
  return counter;
}
