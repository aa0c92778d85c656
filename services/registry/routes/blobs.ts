/**
 * `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`. A blob is visible in a repository only
 * through its link there, so pulling needs the link (per-repository permission) and the
 * content (the bytes may have been collected). Downloads stream; one byte range is served.
 */
import type { Context } from 'koa';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import type { Digest } from '../../../shared/grammar/reference.js';
import type { FileReader } from '../storage/driver.js';
import { blobEvent, deleteEvent } from '../notifications/request-events.js';
import { sendRange } from './blob-body.js';
import { decideByteRange } from './byte-range.js';
import { respondEmpty, type RegistryServices, type RequestContext } from './context.js';
import type { RouteOf } from './path.js';

function blobUnknown(digest: Digest): DockyardError {
  return fail('BLOB_UNKNOWN', 'blob unknown to registry', { digest: digest.value });
}

/** Size of a blob linked into the repository whose content is present, else BLOB_UNKNOWN. */
export async function linkedBlobSize(services: RegistryServices, name: string, digest: Digest): Promise<number> {
  const link = await services.metadata.getBlobLink(name, digest.value);
  const content = link && (await services.blobs.stat(digest));
  if (!content) throw blobUnknown(digest);
  return content.size;
}

/** 200 (or 206 for a Range) with the blob's bytes, or 307 to the store; HEAD sends the same headers without them. */
export async function getBlob({ ctx, route, grant, services }: RequestContext<RouteOf<'blob'>>): Promise<void> {
  const size = await linkedBlobSize(services, route.name, route.digest);
  if (ctx.method === 'GET') services.notifications.recorder.pulled(() => blobEvent(ctx, grant.subject, 'pull', { repository: route.name, digest: route.digest.value, size }));
  // A HEAD that finds a blob is how a client decides not to upload it: keep it for the push.
  if (ctx.method === 'HEAD') await services.pushGuard.touch([route.digest.value]);
  // A store that serves the bytes itself (storage.redirect.disable: false) takes the GET and
  // its Range from here; HEAD stays with the registry, which already knows the answer.
  const redirect = ctx.method === 'GET' ? await services.blobs.redirectUrl(route.digest) : null;
  if (redirect) {
    ctx.set('Docker-Content-Digest', route.digest.value);
    ctx.set('Location', redirect);
    respondEmpty(ctx, 307);
    return;
  }
  const range = decideByteRange(ctx.get('Range') || undefined, size);
  if (range.kind === 'unsatisfiable') {
    throw new DockyardError('RANGE_INVALID', 'requested range not satisfiable', {
      headers: { 'Content-Range': `bytes */${size}` },
      detail: { size },
    });
  }
  const slice = range.kind === 'partial' ? { start: range.start, end: range.end } : undefined;
  const start = slice?.start ?? 0;
  const length = slice ? slice.end - slice.start + 1 : size;
  // HEAD never opens the content: a reader nobody reads would hold a file handle.
  const reader = ctx.method === 'HEAD' || length === 0 ? null : await openContent(services, route.digest);
  ctx.set('Docker-Content-Digest', route.digest.value);
  ctx.set('ETag', `"${route.digest.value}"`);
  ctx.set('Accept-Ranges', 'bytes');
  if (slice) ctx.set('Content-Range', `bytes ${slice.start}-${slice.end}/${size}`);
  ctx.status = slice ? 206 : 200;
  ctx.type = 'application/octet-stream';
  if (!reader && ctx.method !== 'HEAD') ctx.body = Buffer.alloc(0);
  ctx.length = length;
  if (reader) await sendContent(ctx, reader, start, length);
}

/**
 * Writes the body past Koa (see blob-body.ts). Koa must not respond itself once bytes are
 * out; before that, an error still gets Koa's normal JSON answer.
 */
async function sendContent(ctx: Context, reader: FileReader, start: number, length: number): Promise<void> {
  ctx.respond = false;
  try {
    await sendRange(ctx.res, reader, start, length);
  } catch (err) {
    if (!ctx.res.headersSent) ctx.respond = true;
    throw err;
  } finally {
    await reader.close();
  }
}

async function openContent(services: RegistryServices, digest: Digest): Promise<FileReader> {
  try {
    return await services.blobs.open(digest);
  } catch (err) {
    // Collected between stat and open: the same answer as if stat had missed it.
    if ((err as { code?: string }).code === 'PATH_NOT_FOUND') throw blobUnknown(digest);
    throw err;
  }
}

/** 202 after removing the repository's link; the content stays for other repositories. */
export async function deleteBlob({ ctx, route, grant, services }: RequestContext<RouteOf<'blob'>>): Promise<void> {
  const { recorder } = services.notifications;
  const unlinked = await services.metadata.transaction(async (tx) => {
    const done = await services.metadata.unlinkBlob(route.name, route.digest.value, tx);
    if (done) await recorder.record(tx, [deleteEvent(ctx, grant.subject, route.name, { digest: route.digest.value, blob: true })]);
    return done;
  });
  if (!unlinked) throw blobUnknown(route.digest);
  recorder.committed();
  respondEmpty(ctx, 202);
}
