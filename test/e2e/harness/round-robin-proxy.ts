/**
 * A small load balancer for the multi-replica tests: every request goes to the next
 * upstream in turn (no stickiness), bodies streamed both ways. A request whose upstream
 * cannot be reached or dies answers 502 and the client retries; an upstream that failed is
 * passed over for a while (a passive health check, like nginx's `max_fails=1
 * fail_timeout=…`), after which one request tries it again. It rewrites nothing: `Location` headers are relative or name
 * the proxy's own host because the services see the proxy's Host header. Which upstream
 * served each request is recorded so tests can prove that requests alternated.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoutedRequest {
  method: string;
  path: string;
  upstream: number;
  status: number | 'failed';
}

export interface RoundRobinProxy {
  /** `127.0.0.1:PORT` */
  host: string;
  url: string;
  /** Every request so far, in arrival order (status filled in when answered). */
  routed: RoutedRequest[];
  close(): Promise<void>;
}

/** How long an upstream that failed is passed over. */
const FAIL_TIMEOUT_MS = 3000;

export async function startRoundRobinProxy(upstreams: readonly string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const routed: RoutedRequest[] = [];
  const downUntil = upstreams.map(() => 0);
  const pick = (): number => {
    for (let tries = 0; tries < upstreams.length; tries++) {
      const index = next++ % upstreams.length;
      if (downUntil[index]! <= Date.now()) return index;
    }
    return next++ % upstreams.length;
  };
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const index = pick();
    const record: RoutedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', upstream: index, status: 'failed' };
    routed.push(record);
    const target = new URL(req.url ?? '/', upstreams[index]);
    const outgoing = request(target, { method: req.method, headers: req.headers }, (answer) => {
      record.status = answer.statusCode ?? 502;
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    const fail = (): void => {
      downUntil[index] = Date.now() + FAIL_TIMEOUT_MS;
      // Read the rest of the client's body, or its bytes would be parsed as the next request
      // on this connection (a reset the client cannot tell from a dead balancer).
      req.unpipe(outgoing);
      req.resume();
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
        res.end('upstream unavailable');
      } else {
        res.destroy();
      }
    };
    outgoing.on('error', fail);
    req.on('error', () => outgoing.destroy());
    req.pipe(outgoing);
  };
  const server: Server = createServer(forward);
  // Longer than any client here keeps an idle connection (undici 4 s), as nginx's 75 s
  // default is: a client must never reuse a connection the proxy is closing at that moment
  // (with 1 s, a fetch after a pause failed with 'other side closed' in a full run).
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    routed,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
