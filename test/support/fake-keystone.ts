/**
 * A FAKE Keystone v3 identity endpoint, beside the real Swift API it fronts (the RGW's): it
 * checks the password-auth request shape distribution's swift driver sends, answers with a
 * catalog, and hands out REAL Swift tokens it gets from the RGW's auth v1 (the RGW has no
 * Keystone of its own here). `badTokens` first answers carry a token the RGW refuses, so the
 * driver's refresh on 401 is exercised.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SwiftEndpoint } from './ceph-rgw.js';

export interface FakeKeystone {
  url: string;
  /** Bodies of the token requests received, parsed. */
  requests: unknown[];
  close(): Promise<void>;
}

export interface FakeKeystoneOptions {
  rgw: SwiftEndpoint;
  user: string;
  password: string;
  /** How many first token requests get a token the RGW refuses. */
  badTokens?: number;
}

export async function startFakeKeystone(options: FakeKeystoneOptions): Promise<FakeKeystone> {
  const requests: unknown[] = [];
  let badLeft = options.badTokens ?? 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      void (async () => {
        if (req.method !== 'POST' || req.url !== '/v3/auth/tokens') return void res.writeHead(404).end();
        const parsed = JSON.parse(body) as { auth?: { identity?: { password?: { user?: { name?: string; password?: string } } } } };
        requests.push(parsed);
        const user = parsed.auth?.identity?.password?.user;
        if (user?.name !== options.user || user.password !== options.password) return void res.writeHead(401).end('{"error":{"code":401}}');
        const v1 = await fetch(options.rgw.authUrl, { headers: { 'x-auth-user': options.rgw.username, 'x-auth-key': options.rgw.password } });
        const storageUrl = v1.headers.get('x-storage-url')!;
        const token = badLeft > 0 ? 'AUTH_refused-by-the-store' : v1.headers.get('x-auth-token')!;
        badLeft -= 1;
        const catalog = [
          { type: 'identity', endpoints: [{ interface: 'public', region: 'RegionOne', url: 'http://127.0.0.1:1/v3' }] },
          {
            type: 'object-store',
            endpoints: [
              // Wrong region and wrong interface point nowhere: picking them fails the test.
              { interface: 'public', region: 'RegionOne', url: 'http://127.0.0.1:1/swift/v1' },
              { interface: 'internal', region: 'RegionTwo', url: 'http://127.0.0.1:1/swift/v1' },
              { interface: 'public', region: 'RegionTwo', url: storageUrl },
            ],
          },
        ];
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': token });
        res.end(JSON.stringify({ token: { catalog } }));
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v3`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
