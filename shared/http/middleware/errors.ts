/**
 * The outermost middleware of both services: renders every thrown error as the spec's
 * JSON envelope with its registered status and headers. Koa's own error handler is never
 * reached (it drops headers and forces text/plain). Unexpected errors become 500 UNKNOWN
 * without stack traces or paths; the full error goes to the log only.
 */
import type { Context, Next } from 'koa';
import { DockyardError, isDockyardError } from '../errors.js';
import type { Logger } from '../../observability/logger.js';

/**
 * A database that is locked or out of reach right now: SQLite busy or locked (better-sqlite3
 * reports extended codes such as SQLITE_BUSY_SNAPSHOT), PostgreSQL refusing, shutting down or
 * dropping the connection, or no pooled connection free in time. Retrying later can succeed.
 */
export function isDatabaseUnavailable(e: { code?: string; message?: string } | null): boolean {
  const code = e?.code ?? '';
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
  if (code === 'ECONNREFUSED' || code === '57P01') return true;
  const message = e?.message ?? '';
  if (message.startsWith('Knex: Timeout acquiring a connection')) return true;
  // pg's connect and query deadlines (see db.ts), or a connection that died mid-query; knex
  // prefixes the failed query's SQL: `select … - Connection terminated unexpectedly`.
  return /(^| - )(Query read timeout|timeout expired|Connection terminated)/.test(message);
}

const CONNECTION_LOST = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED']);

/**
 * Maps low-level errors that are the client's fault or a known condition to a DockyardError.
 * `bodyBroken`: the request body stream failed (the client hung up mid-upload).
 */
function classify(err: unknown, bodyBroken: boolean): DockyardError | null {
  if (isDockyardError(err)) return err;
  const e = err as { code?: string; status?: number; expose?: boolean; message?: string; type?: string };
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return new DockyardError('STORAGE_FULL', 'storage is full');
  // A failing disk (or one the kernel remounted read-only after errors): the service, not the request, is at fault.
  if (e?.code === 'EIO' || e?.code === 'EROFS') return new DockyardError('UNAVAILABLE', 'storage is unavailable');
  // An object store that does not answer or refuses us (StorageUnavailableError of the drivers).
  if (e?.code === 'STORAGE_UNAVAILABLE') {
    return new DockyardError('UNAVAILABLE', 'storage is unavailable, retry later', { headers: { 'Retry-After': '1' } });
  }
  if (e?.code !== undefined && CONNECTION_LOST.has(e.code)) {
    if (bodyBroken) return new DockyardError('BLOB_UPLOAD_INVALID', 'the request body ended early');
    // Not the client's connection: one to a backend (the database) broke under the request.
    return new DockyardError('UNAVAILABLE', 'a backend connection failed, retry later', { headers: { 'Retry-After': '1' } });
  }
  if (isDatabaseUnavailable(e)) {
    return new DockyardError('UNAVAILABLE', 'the database is unavailable, retry later', { headers: { 'Retry-After': '1' } });
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    if (e.status === 404) return new DockyardError('NOT_FOUND', 'not found');
    if (e.status === 405) return new DockyardError('METHOD_NOT_ALLOWED');
    if (e.status === 413) return new DockyardError('PAYLOAD_TOO_LARGE');
    return new DockyardError('REQUEST_INVALID', e.message);
  }
  return null;
}

/** How much of a refused request's unread body is read and thrown away to keep its connection usable. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The request was refused before its body was read to the end (an upload that hit a full
 * disk, a chunk at the wrong offset). Node drains only bodies nobody started reading, so
 * the unread rest would sit in front of the next request on this keep-alive connection,
 * which then breaks; and a client still writing when the connection closes never reads the
 * answer. So the rest is read and discarded, up to a limit past which the connection is
 * cut. An answer that already says `Connection: close` chose to close instead.
 */
function discardRequestBody(ctx: Context): void {
  if (/close/i.test(ctx.response.get('Connection'))) return;
  const req = ctx.req;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) req.socket.destroy();
  });
  // The client may hang up mid-body; that must not become an uncaught stream error.
  req.on('error', () => undefined);
  req.resume();
}

/** Koa middleware (outermost) that renders every error as the JSON envelope of its code. */
export function errorRenderer(logger: Logger) {
  return async function renderErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const known = classify(err, ctx.req.readableAborted);
      const error = known ?? new DockyardError('UNKNOWN', 'internal server error');
      if (!known || error.status >= 500) {
        logger.error({ err, method: ctx.method, path: ctx.path, requestId: ctx.state.requestId }, 'request failed');
      }
      if (ctx.headerSent || !ctx.writable) {
        ctx.res.destroy();
        return;
      }
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      if (!ctx.req.complete) discardRequestBody(ctx);
      ctx.type = 'application/json';
      ctx.body = ctx.method === 'HEAD' ? null : error.toBody();
      if (ctx.method === 'HEAD') ctx.length = Buffer.byteLength(JSON.stringify(error.toBody()));
    }
  };
}
