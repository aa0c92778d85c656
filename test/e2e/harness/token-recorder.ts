/**
 * A pass-through HTTP proxy in front of the auth service that records what real clients
 * ask the token endpoint (method, grant type, scopes, whether credentials were sent), so
 * tests can assert protocol facts such as "docker used POST grant_type=refresh_token" or
 * "podman asked for two scopes". Secret values are never recorded, only their presence.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Workspace } from './workspace.js';

const SECRET_FIELDS = new Set(['password', 'refresh_token']);
const MAX_FORM_BYTES = 64 * 1024;

/** One request the proxy forwarded. */
export interface TokenRequest {
  method: string;
  path: string;
  /** Query (GET) or form (POST) fields; repeated fields keep every value. Secrets read `<redacted>`. */
  fields: Record<string, string[]>;
  /** Every scope asked for, split on spaces (a field may hold several). */
  scopes: string[];
  /** `Basic`, `Bearer`, or undefined when no Authorization header was sent. */
  authScheme?: string;
  status: number;
}

/** The running recorder. */
export interface TokenRecorder {
  /** Base URL to use as the registry's token realm host, e.g. http://127.0.0.1:PORT. */
  url: string;
  requests: TokenRequest[];
  /** Forget what was recorded so far (to look at one client command in isolation). */
  clear(): void;
}

function collectFields(params: URLSearchParams): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const [key, value] of params) (fields[key] ??= []).push(SECRET_FIELDS.has(key) ? '<redacted>' : value);
  return fields;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) req.destroy(new Error('token request body too large for the recorder'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts a recorder on 127.0.0.1 forwarding every request to `target` (the auth service URL). */
export async function startTokenRecorder(ws: Workspace, target: string): Promise<TokenRecorder> {
  const upstream = new URL(target);
  const requests: TokenRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://recorder');
      const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const params = req.method === 'POST' && isForm ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
      const fields = collectFields(params);
      const entry: TokenRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        fields,
        scopes: (fields.scope ?? []).flatMap((value) => value.split(' ')).filter(Boolean),
        authScheme: req.headers.authorization?.split(' ')[0],
        status: 0,
      };
      requests.push(entry);
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (upstreamRes) => {
          entry.status = upstreamRes.statusCode ?? 0;
          res.writeHead(entry.status, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      forward.on('error', (err) => {
        entry.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`recorder could not reach ${target}: ${err.message}`);
      });
      forward.end(body);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.message : 'bad request');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ws.defer('stop token recorder', () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, clear: () => requests.splice(0) };
}
