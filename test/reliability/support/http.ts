/**
 * A minimal HTTP client for the reliability suites, on node:http rather than fetch so a
 * request body can be a stream with backpressure, a download is hashed as it arrives
 * (nothing large is ever buffered), and a server that dies mid-request surfaces as a
 * plain network error the caller can classify.
 */
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** A finished request with a small body (error envelopes, manifests). */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What one request sends. */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | Readable;
  /** Abort (as a network error) when no progress is made for this long; default 60 s. */
  idleTimeoutMs?: number;
  agent?: Agent;
}

/** A download hashed on the fly. */
export interface DownloadResult {
  status: number;
  headers: IncomingHttpHeaders;
  size: number;
  /** `sha256:<hex>` of the bytes received. */
  digest: string;
  /** The body, when the answer was not 2xx (an error envelope). */
  errorBody: Buffer;
}

/** Bodies kept in memory are at most this long; anything larger is a test bug. */
const MAX_BUFFERED_BODY = 8 * 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'UND_ERR_SOCKET']);

/** Thrown when the connection failed or broke before a complete response arrived. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** True for failures caused by the server going away (as opposed to a wrong answer). */
export function isNetworkError(err: unknown): err is NetworkError {
  return err instanceof NetworkError;
}

function networkError(err: unknown): NetworkError {
  const code = (err as { code?: string } | null)?.code ?? 'ECONNRESET';
  const message = err instanceof Error ? err.message : String(err);
  return new NetworkError(`${code}: ${message}`, code);
}

/** Whether a failure while reading a response came from the connection (not from us). */
function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code !== undefined && NETWORK_CODES.has(code);
}

/**
 * Runs one request and hands its response to `consume`. Errors writing the body after the
 * server already answered (it may stop reading to refuse early) do not hide the answer.
 */
function exchange<T>(url: string, options: SendOptions, consume: (res: IncomingMessage) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let responded = false;
    let lastError: unknown;
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      responded = true;
      consume(res).then(resolve, (err: unknown) => reject(isConnectionFailure(err) && !(err instanceof NetworkError) ? networkError(err) : err));
    });
    req.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      req.destroy(Object.assign(new Error(`no progress for ${options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (err) => {
      lastError = err;
    });
    req.on('close', () => {
      if (!responded) reject(networkError(lastError ?? new Error('connection closed before a response')));
    });
    const { body } = options;
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    body.on('error', (err) => req.destroy(err));
    // A refused request closes the socket while we still write; that is not our failure.
    req.on('error', () => body.destroy());
    body.pipe(req);
  });
}

function readSmallBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BUFFERED_BODY) {
        res.destroy(new Error(`response body over ${MAX_BUFFERED_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(networkError(Object.assign(new Error('response ended early'), { code: 'ECONNRESET' })));
      else resolve(Buffer.concat(chunks));
    });
  });
}

/** Sends a request and reads its (small) response body. */
export function send(url: string, options: SendOptions = {}): Promise<HttpResponse> {
  return exchange(url, options, async (res) => ({ status: res.statusCode ?? 0, headers: res.headers, body: await readSmallBody(res) }));
}

/** GETs `url`, hashing a 2xx body as it streams in; a short or broken body is a NetworkError. */
export function download(url: string, options: SendOptions = {}): Promise<DownloadResult> {
  return exchange(url, options, (res) => {
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      return readSmallBody(res).then((errorBody) => ({ status, headers: res.headers, size: 0, digest: '', errorBody }));
    }
    return new Promise<DownloadResult>((resolve, reject) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(networkError(Object.assign(new Error(`response ended early after ${size} bytes`), { code: 'ECONNRESET' })));
        else resolve({ status, headers: res.headers, size, digest: `sha256:${hash.digest('hex')}`, errorBody: Buffer.alloc(0) });
      });
    });
  });
}

/** The first error code of a JSON error envelope, or undefined when the body is not one. */
export function errorCode(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown }> };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A one-line account of a response for assertion messages. */
export function explain(response: { status: number; body?: Buffer; errorBody?: Buffer }): string {
  const body = response.body ?? response.errorBody ?? Buffer.alloc(0);
  return `${response.status} ${body.toString('utf8').slice(0, 300)}`;
}
