/**
 * In-process load generation: an HTTP/1.1 client (undici's Pool) with exactly as many
 * keep-alive connections as the scenario's connection count, and a closed-loop runner (each
 * connection sends its next request when the previous answer is complete) bounded in time
 * and count. undici rather than node:http's Agent because the generator shares the two
 * cores with the servers and undici costs it about a fifth less CPU per request (measured
 * in alternating rounds: 0.099 vs 0.126 ms per manifest GET at 16 connections, 0.134 vs
 * 0.161 ms per refresh-token login at 8; see docs/performance.md). Both targets always
 * get the same client.
 */
import { Readable } from 'node:stream';
import { Pool } from 'undici';

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

/** Response headers by lower-case name; repeated headers are joined with ', '. */
export type ReplyHeaders = Record<string, string | undefined>;

export interface Reply {
  status: number;
  headers: ReplyHeaders;
  body: Buffer;
}

/** A response whose body has not been read yet. */
export interface StreamingReply {
  status: number;
  headers: ReplyHeaders;
  body: AsyncIterable<Buffer>;
}

let requestsSent = 0;

/** Requests sent by every client in this process so far (for CPU per request). */
export function requestCount(): number {
  return requestsSent;
}

/** No request of a bounded scenario waits this long for headers or between body chunks; a hung server fails the scenario. */
const STALL_TIMEOUT_MS = 10 * 60 * 1000;

function flatHeaders(raw: Record<string, string | string[] | undefined>): ReplyHeaders {
  const headers: ReplyHeaders = {};
  for (const [name, value] of Object.entries(raw)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** An HTTP/1.1 client for one server with a fixed number of keep-alive connections. */
export class HttpClient {
  private readonly pool: Pool;
  readonly origin: URL;

  constructor(baseUrl: string, readonly connections: number) {
    this.origin = new URL(baseUrl);
    this.pool = new Pool(this.origin.origin, { connections, pipelining: 1, headersTimeout: STALL_TIMEOUT_MS, bodyTimeout: STALL_TIMEOUT_MS });
  }

  /** Sends a request and buffers the (small) answer. */
  async request(options: RequestOptions): Promise<Reply> {
    return this.exchange(options, async (reply) => {
      const chunks: Buffer[] = [];
      for await (const chunk of reply.body) chunks.push(chunk);
      return { status: reply.status, headers: reply.headers, body: Buffer.concat(chunks) };
    });
  }

  /**
   * Sends a request and hands the answer to `consume` once its status is known to be
   * expected, so large bodies are processed as they arrive and never held in memory.
   */
  async exchange<T>(options: RequestOptions, consume: (reply: StreamingReply) => Promise<T>): Promise<T> {
    const url = new URL(options.path, this.origin);
    if (url.host !== this.origin.host) throw new BenchError(`${options.method} ${options.path}: points away from ${this.origin.host}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value);
    requestsSent += 1;
    const body = options.body;
    const payload = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : Readable.from(body, { objectMode: false });
    const res = await this.pool.request({ method: options.method, path: url.pathname + url.search, headers, body: payload });
    const reply: StreamingReply = { status: res.statusCode, headers: flatHeaders(res.headers), body: res.body };
    if (!options.expect.includes(reply.status)) {
      const snippet = await readSnippet(reply.body);
      throw new BenchError(`${options.method} ${url.pathname}: expected ${options.expect.join('/')}, got ${reply.status} ${snippet}`);
    }
    try {
      return await consume(reply);
    } catch (err) {
      res.body.destroy();
      throw err;
    }
  }

  /** Closes every connection. */
  close(): void {
    this.pool.destroy().catch(() => undefined);
  }
}

async function readSnippet(body: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < 300) text += chunk.toString('utf8');
  }
  return text.slice(0, 300).trim();
}

/** How long and how often a measured loop may run; whichever limit is hit first ends it. */
export interface Budget {
  seconds: number;
  maxOps: number;
  /** Also stop each worker after this many ops (a fixed amount of work per client). */
  maxOpsPerWorker?: number;
  /** Also stop once this returns true (checked before each op): work that lasts as long as something else runs. */
  until?: () => boolean;
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
      if (failure !== undefined || next >= budget.maxOps || process.hrtime.bigint() >= deadline || budget.until?.()) return;
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
