/**
 * Measures one request/response exchange for the access log and the metrics, so both
 * report the same numbers: body bytes actually read and written (Content-Length cannot be
 * used: chunked uploads and streamed blobs have none), and the moment the exchange ends
 * (a streamed body keeps flowing after the middleware chain has returned).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'koa';

/** Running byte counts of one exchange. */
export interface BodyBytes {
  in: number;
  out: number;
}

const TRACKED = Symbol('dockyard.bodyBytes');

type Tracked = { [TRACKED]?: BodyBytes };

function byteLength(chunk: unknown, encoding?: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/**
 * Starts (or returns the already running) byte counting for this exchange. Request bytes
 * are counted as the handler consumes them: wrapping `emit` sees every chunk whether the
 * body is piped, iterated or read(), without switching the stream into flowing mode as a
 * 'data' listener would.
 */
export function trackBodyBytes(req: IncomingMessage, res: ServerResponse): BodyBytes {
  const tracked = req as IncomingMessage & Tracked;
  const existing = tracked[TRACKED];
  if (existing) return existing;
  const counts: BodyBytes = { in: 0, out: 0 };
  tracked[TRACKED] = counts;

  const emit = req.emit;
  req.emit = function countingEmit(this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data') counts.in += byteLength(args[0]);
    return emit.call(this, event, ...args);
  } as typeof req.emit;

  // Node never sends a body for HEAD, whatever is written.
  const headOnly = req.method === 'HEAD';
  const write = res.write;
  res.write = function countingWrite(this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    if (!headOnly) counts.out += byteLength(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;

  const end = res.end;
  res.end = function countingEnd(this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
    if (!headOnly && typeof chunk !== 'function') counts.out += byteLength(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;

  return counts;
}

/**
 * Calls `done` once when the response has been sent completely (`aborted` false) or the
 * connection closed before that (`aborted` true).
 */
export function onExchangeEnd(res: ServerResponse, done: (aborted: boolean) => void): void {
  let called = false;
  const finish = (aborted: boolean): void => {
    if (called) return;
    called = true;
    res.off('finish', onFinish);
    res.off('close', onClose);
    done(aborted);
  };
  const onFinish = (): void => finish(false);
  const onClose = (): void => finish(!res.writableFinished);
  res.once('finish', onFinish);
  res.once('close', onClose);
}

/** The route template of the matched route, for logs and metric labels (never the raw path). */
export function routeTemplateOf(ctx: Context): string {
  const fromState: unknown = ctx.state.routeTemplate;
  if (typeof fromState === 'string' && fromState !== '') return fromState;
  // @koa/router records the matched layer's path template here.
  const matched: unknown = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string' && matched !== '') return matched;
  return 'unmatched';
}
