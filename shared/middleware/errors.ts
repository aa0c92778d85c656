/**
 * The outermost middleware of both services: renders every thrown error as the spec's
 * JSON envelope with its registered status and headers. Koa's own error handler is never
 * reached (it drops headers and forces text/plain). Unexpected errors become 500 UNKNOWN
 * without stack traces or paths; the full error goes to the log only.
 */
import type { Context, Next } from 'koa';
import { DockyardError, isDockyardError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Maps low-level errors that are the client's fault or a known condition to a DockyardError. */
function classify(err: unknown): DockyardError | null {
  if (isDockyardError(err)) return err;
  const e = err as { code?: string; status?: number; expose?: boolean; message?: string; type?: string };
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return new DockyardError('STORAGE_FULL', 'storage is full');
  if (e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'ECONNABORTED') {
    return new DockyardError('BLOB_UPLOAD_INVALID', 'the request body ended early');
  }
  if (e?.code === 'SQLITE_BUSY' || e?.code === 'ECONNREFUSED' || e?.code === '57P01' || e?.message?.includes('Knex: Timeout acquiring a connection')) {
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

export function errorRenderer(logger: Logger) {
  return async function renderErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const known = classify(err);
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
      ctx.type = 'application/json';
      ctx.body = ctx.method === 'HEAD' ? null : error.toBody();
      if (ctx.method === 'HEAD') ctx.length = Buffer.byteLength(JSON.stringify(error.toBody()));
    }
  };
}
