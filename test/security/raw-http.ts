/**
 * Raw HTTP/1.1 over node:net, for the inputs fetch would normalise, refuse or repair:
 * `..` and control bytes in the request line, a Content-Length that lies, bodies cut off
 * mid-way, headers sent one byte at a time. Responses are parsed just far enough to check
 * status, headers and the JSON error envelope.
 */
import assert from 'node:assert/strict';
import net from 'node:net';

/** One parsed response. Header names are lower-case. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Everything that came back on one connection. */
export interface RawExchange {
  responses: RawResponse[];
  /** The connection ended before the deadline (closed by the server, or reset by `destroyAfterMs`). */
  closed: boolean;
  /** The deadline passed with the connection still open; the test then destroyed it. */
  timedOut: boolean;
  /** Every byte received, as latin1 text (for messages). */
  raw: string;
}

/** How the client misbehaves after writing its bytes. */
export interface RawOptions {
  /** Stop waiting (and destroy the socket) after this long; default 10 s. */
  deadlineMs?: number;
  /** Half-close after writing: the server sees the body end before its Content-Length. */
  end?: boolean;
  /** Reset the connection this long after writing. */
  destroyAfterMs?: number;
}

/** Splits `raw` into the complete responses it holds (Content-Length framed, as koa sends them). */
function parseResponses(raw: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return responses;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    if (rest.length < bodyStart + length) return responses;
    responses.push({ status, headers, body: rest.slice(bodyStart, bodyStart + length) });
    rest = rest.slice(bodyStart + length);
  }
}

/** Writes `payload` (pieces in order) to the server behind `url` and collects what comes back. */
export function rawExchange(url: string, payload: string | Buffer | ReadonlyArray<string | Buffer>, options: RawOptions = {}): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  const pieces = typeof payload === 'string' || Buffer.isBuffer(payload) ? [payload] : payload;
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(raw), closed: !timedOut, timedOut, raw });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(false));
    // A reset after the server answered is how some refusals end; the close event follows.
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      for (const piece of pieces) socket.write(piece);
      if (options.end) socket.end();
      if (options.destroyAfterMs !== undefined) timers.push(setTimeout(() => socket.resetAndDestroy(), options.destroyAfterMs));
    });
    timers.push(setTimeout(() => finish(true), options.deadlineMs ?? 10_000));
  });
}

/** A request head with `Host` and the given headers; `Connection: close` unless one is given. */
export function requestHead(method: string, target: string, headers: Record<string, string | number> = {}): string {
  const all: Record<string, string | number> = { Host: 'registry.test', ...headers };
  if (!Object.keys(all).some((name) => name.toLowerCase() === 'connection')) all.Connection = 'close';
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

/** Asserts a JSON error envelope with this status and first code; returns the error entry. */
export function expectEnvelope(response: RawResponse | undefined, status: number, code: string): { code: string; message: string; detail?: unknown } {
  assert.ok(response, 'no response');
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${response.body.slice(0, 300)}`);
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(response.body) as { errors?: Array<{ code: string; message: string; detail?: unknown }> };
  assert.equal(body.errors?.[0]?.code, code, response.body.slice(0, 300));
  assert.equal(typeof body.errors[0]!.message, 'string');
  return body.errors[0]!;
}

/** Asserts the registry still answers `GET /v2/` with 200 (it survived whatever came before). */
export async function assertRegistryUp(url: string): Promise<void> {
  const response = await fetch(`${url}/v2/`);
  assert.equal(response.status, 200, `registry stopped answering: ${response.status}`);
  await response.arrayBuffer();
}
