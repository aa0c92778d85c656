/**
 * Blob uploads: start (POST, also monolithic `?digest=` and cross-repository `?mount=`),
 * status (GET), chunk (PATCH), complete (PUT) and cancel (DELETE). Sessions belong to
 * their repository and to the subject that started them; bodies stream straight into
 * the UploadManager, which hashes while writing.
 */
import type { Context } from 'koa';
import { DockyardError, fail } from '../../../shared/http/errors.js';
import { parseDigest, type Digest } from '../../../shared/grammar/reference.js';
import { mountSource } from '../access.js';
import { collectedDuringUpload } from '../lifecycle/push-guard.js';
import type { Tx } from '../metadata/store.js';
import { blobEvent } from '../notifications/request-events.js';
import type { UploadSession } from '../storage/uploads.js';
import { parseUploadContentRange } from './byte-range.js';
import {
  blobLocation,
  requestContentLength,
  requestHasBody,
  respondEmpty,
  uploadLocation,
  uploadRange,
  type RequestContext,
} from './context.js';
import type { RouteOf } from './path.js';

/** What the linking transaction of an upload or mount writes: its event, in the outbox. */
function recordLinked(request: RequestContext, action: 'push' | 'mount', blob: { repository: string; digest: string; size: number; from?: string }) {
  return (tx: Tx) => request.services.notifications.recorder.record(tx, [blobEvent(request.ctx, request.grant.subject, action, blob)]);
}

/** Where a chunk must start and how long it claims to be, from Content-Range / Content-Length. */
interface ChunkPosition {
  start?: number;
  length?: number;
}

function respondSession(ctx: Context, session: UploadSession, status: number): void {
  ctx.set('Location', uploadLocation(session.repository, session.id));
  ctx.set('Range', uploadRange(session.offset));
  ctx.set('Docker-Upload-UUID', session.id);
  respondEmpty(ctx, status);
}

function respondBlobCreated(ctx: Context, name: string, digest: Digest): void {
  ctx.set('Location', blobLocation(name, digest));
  ctx.set('Docker-Content-Digest', digest.value);
  respondEmpty(ctx, 201);
}

/** The `digest` query parameter; DIGEST_INVALID when it is missing or malformed. */
function requiredDigest(query: URLSearchParams): Digest {
  const value = query.get('digest');
  if (value === null || value === '') throw fail('DIGEST_INVALID', 'the digest query parameter is required');
  return parseDigest(value);
}

/**
 * Reads the chunk position. A malformed or backwards Content-Range is answered 416 with
 * the session's current Range so the client can resume; a Content-Length that
 * contradicts the range is SIZE_INVALID.
 */
async function chunkPosition({ ctx, route, grant, services }: RequestContext<RouteOf<'upload'>>): Promise<ChunkPosition> {
  const contentLength = requestContentLength(ctx);
  const header = ctx.get('Content-Range');
  if (header === '') return contentLength === undefined ? {} : { length: contentLength };
  const range = parseUploadContentRange(header);
  if (!range) {
    const session = await services.uploads.get(route.name, route.uploadId, grant.subject);
    throw new DockyardError('RANGE_INVALID', 'malformed Content-Range', {
      headers: {
        Location: uploadLocation(route.name, session.id),
        Range: uploadRange(session.offset),
        'Docker-Upload-UUID': session.id,
      },
      detail: { contentRange: header.slice(0, 100) },
    });
  }
  const length = range.end - range.start + 1;
  if (contentLength !== undefined && contentLength !== length) {
    throw fail('SIZE_INVALID', 'Content-Length does not match Content-Range', { contentLength, contentRange: header.slice(0, 100) });
  }
  return { start: range.start, length };
}

/** Links an existing blob from `from` when the caller may pull it there; false to fall back to an upload. */
async function tryMount(request: RequestContext<RouteOf<'uploads'>>): Promise<boolean> {
  const { ctx, route, query, services, fullAccess } = request;
  const source = mountSource(query);
  if (!source || !fullAccess) return false;
  const { digest } = source;
  const link = await services.metadata.getBlobLink(source.from, digest.value);
  const content = link && (await services.blobs.stat(digest));
  if (!content) return false;
  // Collected between the check and the link: an upload of the bytes takes over.
  const mounted = { repository: route.name, digest: digest.value, size: content.size, from: source.from };
  if (!(await services.pushGuard.linkBlob(route.name, digest.value, content.size, recordLinked(request, 'mount', mounted)))) return false;
  services.notifications.recorder.committed();
  respondBlobCreated(ctx, route.name, digest);
  return true;
}

/** A whole blob in the POST body (`?digest=`): one request instead of POST + PUT. */
async function monolithicUpload(request: RequestContext<RouteOf<'uploads'>>): Promise<void> {
  const { ctx, route, query, grant, services } = request;
  const digest = requiredDigest(query);
  const length = requestContentLength(ctx);
  if (length !== undefined) await services.pushGuard.precheckQuota(route.name, digest.value, length);
  const session = await services.uploads.start(route.name, grant.subject);
  await services.pushGuard.beforeBlobPlaced(digest.value);
  let blob: { digest: Digest; size: number };
  try {
    const body = requestHasBody(ctx) ? ctx.req : undefined;
    blob = await services.uploads.complete(route.name, session.id, grant.subject, digest, body, length === undefined ? {} : { length });
  } catch (err) {
    // The client never saw this session's id, so nobody else will clean it up.
    await services.uploads.cancel(route.name, session.id, grant.subject).catch(() => undefined);
    throw err;
  }
  const pushed = { repository: route.name, digest: blob.digest.value, size: blob.size };
  if (!(await services.pushGuard.linkBlob(route.name, blob.digest.value, blob.size, recordLinked(request, 'push', pushed)))) throw collectedDuringUpload(blob.digest.value);
  services.notifications.recorder.committed();
  respondBlobCreated(ctx, route.name, blob.digest);
}

/** POST /v2/<name>/blobs/uploads/: 201 for a mount or monolithic upload, else 202 with a new session. */
export async function startUpload(request: RequestContext<RouteOf<'uploads'>>): Promise<void> {
  const { ctx, route, query, grant, services } = request;
  if (query.has('mount') && (await tryMount(request))) return;
  if (query.has('digest')) return monolithicUpload(request);
  const session = await services.uploads.start(route.name, grant.subject);
  respondSession(ctx, session, 202);
}

/** GET: 204 with the session's Range. */
export async function getUploadStatus({ ctx, route, grant, services }: RequestContext<RouteOf<'upload'>>): Promise<void> {
  const session = await services.uploads.get(route.name, route.uploadId, grant.subject);
  respondSession(ctx, session, 204);
}

/** The spec's 416 also tells the client where the upload lives, so it can resume there. */
function withUploadLocation(err: unknown, name: string, id: string): unknown {
  if (!(err instanceof DockyardError) || err.code !== 'RANGE_INVALID' || err.headers.Location !== undefined) return err;
  return new DockyardError(err.code, err.message, {
    status: err.status,
    detail: err.detail,
    headers: { ...err.headers, Location: uploadLocation(name, id) },
    cause: err,
  });
}

/** PATCH: appends the body (streamed, or a chunk at Content-Range); 202 with the new Range. */
export async function patchUpload(request: RequestContext<RouteOf<'upload'>>): Promise<void> {
  const { ctx, route, grant, services } = request;
  const position = await chunkPosition(request);
  let session: UploadSession;
  try {
    session = await services.uploads.append(route.name, route.uploadId, grant.subject, ctx.req, position);
  } catch (err) {
    throw withUploadLocation(err, route.name, route.uploadId);
  }
  respondSession(ctx, session, 202);
}

/** PUT ?digest=: appends an optional final chunk, verifies, links the blob; 201. */
export async function completeUpload(request: RequestContext<RouteOf<'upload'>>): Promise<void> {
  const { ctx, route, query, grant, services } = request;
  const digest = requiredDigest(query);
  const hasBody = requestHasBody(ctx);
  const position = hasBody ? await chunkPosition(request) : {};
  let blob: { digest: Digest; size: number };
  // Before the bytes move into place: the collector leaves the digest alone from here on.
  await services.pushGuard.beforeBlobPlaced(digest.value);
  try {
    blob = await services.uploads.complete(route.name, route.uploadId, grant.subject, digest, hasBody ? ctx.req : undefined, position);
  } catch (err) {
    throw withUploadLocation(err, route.name, route.uploadId);
  }
  const pushed = { repository: route.name, digest: blob.digest.value, size: blob.size };
  if (!(await services.pushGuard.linkBlob(route.name, blob.digest.value, blob.size, recordLinked(request, 'push', pushed)))) throw collectedDuringUpload(blob.digest.value);
  services.notifications.recorder.committed();
  respondBlobCreated(ctx, route.name, blob.digest);
}

/** DELETE: drops the session and its data; 204. */
export async function cancelUpload({ ctx, route, grant, services }: RequestContext<RouteOf<'upload'>>): Promise<void> {
  await services.uploads.cancel(route.name, route.uploadId, grant.subject);
  respondEmpty(ctx, 204);
}
