/**
 * HTTP requests from a chosen loopback source address (127.0.0.2, 127.0.0.3, …), each on
 * its own connection, so one test can play an attacker and the owner of an account as two
 * machines: the services see the socket's peer address.
 */
import { request } from 'node:http';

/** What a test looks at in an answer. */
export interface AddressedReply {
  status: number;
  retryAfter: string | undefined;
  body: Record<string, unknown>;
}

/** Sends one request to `url` from `localAddress` on a new connection. */
export function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<AddressedReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = { text };
        }
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
