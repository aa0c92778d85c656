/**
 * The endpoints of the notification rows: one dead (a loopback port nobody listens on:
 * connection refused) and one slow (a server in this process answering every request after
 * 2 s, below the 5 s timeout, so each delivery holds a request open that long).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../e2e/harness/ports.js';

const SLOW_MS = 2_000;

/** Starts the slow receiver (for the rest of the run) and returns both endpoints as configuration. */
export async function benchEndpoints(): Promise<unknown[]> {
  const slow = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200).end(), SLOW_MS).unref());
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slow.unref();
  const dead = await freePort();
  return [
    { name: 'dead', url: `http://127.0.0.1:${dead}/events`, timeout: '5s', threshold: 3, backoff: '1s' },
    { name: 'slow', url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/events`, timeout: '5s', threshold: 3, backoff: '1s' },
  ];
}
