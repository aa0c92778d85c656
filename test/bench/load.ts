/**
 * In-process load generation: an HTTP client on a keep-alive agent with exactly as many
 * sockets as the scenario's connection count, and a closed-loop runner (each connection
 * sends its next request when the previous answer is complete) bounded in time and count.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Thrown when a server answers something a scenario did not expect; aborts the scenario. */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

/** A request body: small ones in memory, large ones streamed from an iterable of chunks. */
export type Body = Buffer | string | Iterable<Buffer> | AsyncIterable<Buffer>;

export interface RequestOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, or an absolute URL on the same server (Location headers may be either). */
  path: string;
  headers?: Record<string, string | number | undefined>;
  body?: Body;
  /** Statuses that count as success; anything else throws BenchError. */
  expect: readonly number[];
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let requestsSent = 0;

/** Requests sent by every client in this process so far (for CPU per request). */
export function requestCount(): number {
  return requestsSent;
}

/** An HTTP/1.1 client for one server with a fixed number of keep-alive connections. */
export class HttpClient {
  private readonly agent: http.Agent;
  readonly origin: URL;

  constructor(baseUrl: string, readonly connections: number) {
    this.origin = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  /** Sends a request and buffers the (small) answer. */
  async request(options: RequestOptions): Promise<Reply> {
    return this.exchange(options, async (res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
    });
  }

  /**
   * Sends a request and hands the answer stream to `consume` once its status is known to
   * be expected, so large bodies are processed as they arrive and never held in memory.
   */
  exchange<T>(options: RequestOptions, consume: (res: IncomingMessage) => Promise<T>): Promise<T> {
    const url = new URL(options.path, this.origin);
    if (url.host !== this.origin.host) {
      return Promise.reject(new BenchError(`${options.method} ${options.path}: points away from ${this.origin.host}`));
    }
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = value;
    const body = options.body;
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = Buffer.byteLength(body);
    requestsSent += 1;
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        { agent: this.agent, host: url.hostname, port: url.port, method: options.method, path: url.pathname + url.search, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          if (!options.expect.includes(status)) {
            readSnippet(res).then(
              (snippet) => reject(new BenchError(`${options.method} ${url.pathname}: expected ${options.expect.join('/')}, got ${status} ${snippet}`)),
              reject,
            );
            return;
          }
          consume(res).then(resolve, (err: unknown) => {
            res.destroy();
            reject(err);
          });
        },
      );
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
      else pipeline(Readable.from(body, { objectMode: false }), req).catch(reject);
    });
  }

  /** Closes every connection. */
  close(): void {
    this.agent.destroy();
  }
}

async function readSnippet(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) {
    if (text.length < 300) text += (chunk as Buffer).toString('utf8');
  }
  return text.slice(0, 300).trim();
}

/** How long and how often a measured loop may run; whichever limit is hit first ends it. */
export interface Budget {
  seconds: number;
  maxOps: number;
  /** Also stop each worker after this many ops (a fixed amount of work per client). */
  maxOpsPerWorker?: number;
}

export interface LoopResult {
  ops: number;
  bytes: number;
  seconds: number;
  latenciesMs: number[];
}

/**
 * Runs `op` on `connections` concurrent workers until the budget is spent. An op returns
 * the bytes it moved (0 if not a transfer). The first failure stops every worker and is
 * rethrown once all of them have settled.
 */
export async function closedLoop(
  connections: number,
  budget: Budget,
  op: (index: number, worker: number) => Promise<number>,
): Promise<LoopResult> {
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(budget.seconds * 1e9));
  let next = 0;
  let bytes = 0;
  let failure: unknown;
  const worker = async (id: number): Promise<void> => {
    for (let mine = 0; mine < (budget.maxOpsPerWorker ?? Infinity); mine++) {
      if (failure !== undefined || next >= budget.maxOps || process.hrtime.bigint() >= deadline) return;
      const index = next++;
      const began = process.hrtime.bigint();
      try {
        bytes += await op(index, id);
      } catch (err) {
        failure ??= err;
        return;
      }
      latenciesMs.push(Number(process.hrtime.bigint() - began) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, id) => worker(id)));
  if (failure !== undefined) throw failure;
  return { ops: latenciesMs.length, bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9, latenciesMs };
}

/** The q-quantile (0..1) of a list of samples, nearest-rank; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
