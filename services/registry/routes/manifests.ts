/**
 * `GET|HEAD|PUT|DELETE /v2/<name>/manifests/<tag|digest>`. Manifest bytes are stored
 * exactly as pushed, content-addressed like blobs, and indexed in the metadata store;
 * GET returns those bytes with the stored media type (no Accept negotiation, no conversion).
 */
import { fail } from '../../../shared/http/errors.js';
import { assertTag, parseDigest } from '../../../shared/grammar/reference.js';
import { recordLineage } from '../events/index.js';
import { parseManifest } from '../manifests.js';
import { referencedDigests, verifyReferences } from '../manifests/references.js';
import type { ManifestRecord } from '../metadata/store.js';
import { deleteEvent, manifestPullEvent, manifestPushEvents, staleEvent } from '../notifications/request-events.js';
import { digestOf } from '../storage/blobs.js';
import { readBoundedBody } from './body.js';
import { manifestLocation, respondEmpty, type RegistryServices, type RequestContext } from './context.js';
import type { ManifestReference, RouteOf } from './path.js';

function manifestUnknown(name: string, reference: ManifestReference) {
  const detail = reference.kind === 'tag' ? { name, tag: reference.tag } : { name, digest: reference.digest.value };
  return fail('MANIFEST_UNKNOWN', 'manifest unknown to registry', detail);
}

async function findManifest(services: RegistryServices, name: string, reference: ManifestReference): Promise<ManifestRecord> {
  const digest = reference.kind === 'digest' ? reference.digest.value : await services.metadata.resolveTag(name, reference.tag);
  const record = digest === null ? null : await services.metadata.getManifest(name, digest);
  if (!record) throw manifestUnknown(name, reference);
  return record;
}

/** 200 with the stored bytes and media type; HEAD the same headers from the index alone. */
export async function getManifest({ ctx, route, grant, services }: RequestContext<RouteOf<'manifest'>>): Promise<void> {
  const record = await findManifest(services, route.name, route.reference);
  if (ctx.method === 'GET') {
    const tag = route.reference.kind === 'tag' ? route.reference.tag : undefined;
    services.notifications.recorder.pulled(() => manifestPullEvent(ctx, grant.subject, record, tag));
  }
  services.pullTimes.pulled(route.name, route.reference.kind === 'tag' ? route.reference : { kind: 'digest', digest: record.digest });
  const body = ctx.method === 'HEAD' ? null : await services.blobs.getBytes(parseDigest(record.digest));
  ctx.set('Docker-Content-Digest', record.digest);
  ctx.set('ETag', `"${record.digest}"`);
  ctx.status = 200;
  ctx.set('Content-Type', record.mediaType);
  if (body) ctx.body = body;
  ctx.length = record.size;
}

/**
 * The tags a push applies: the URL's tag, or the `tag` query parameters of a push by
 * digest (OCI distribution 1.1 "push by digest and tag at once"). Checked before the body
 * is read, so a bad tag never stores anything. Node's 16 KiB request-head limit bounds
 * how many arrive (431 beyond it, as the spec allows).
 */
function tagsToApply(reference: ManifestReference, query: URLSearchParams): string[] {
  const fromQuery = query.getAll('tag');
  if (reference.kind === 'tag') {
    if (fromQuery.length > 0) {
      throw fail('TAG_INVALID', 'tag parameters are accepted only when pushing by digest', { tags: fromQuery.slice(0, 10) });
    }
    return [reference.tag];
  }
  return [...new Set(fromQuery.map(assertTag))];
}

/**
 * 201 after validating the manifest and its references, storing the bytes and recording
 * the manifest (and tags). Pushing by digest hashes with that digest's algorithm and must
 * match it; pushing by tag uses sha256. Each tag applied is echoed in an `OCI-Tag` header.
 */
export async function putManifest({ ctx, route, query, grant, services }: RequestContext<RouteOf<'manifest'>>): Promise<void> {
  const { reference } = route;
  const tags = tagsToApply(reference, query);
  const bytes = await readBoundedBody(ctx.req, services.config.limits.manifestMaxBytes);
  const manifest = parseManifest(bytes, ctx.get('Content-Type') || undefined);
  const digest = digestOf(bytes, reference.kind === 'digest' ? reference.digest.algorithm : 'sha256');
  if (reference.kind === 'digest' && digest.value !== reference.digest.value) {
    throw fail('DIGEST_INVALID', 'manifest digest does not match the digest in the URL', {
      expected: reference.digest.value,
      computed: digest.value,
    });
  }
  await verifyReferences(services.metadata, route.name, manifest);
  await services.pushGuard.beforeManifestStored(digest.value, manifest);
  await services.blobs.putBytes(bytes, digest.algorithm);
  const target = { repository: route.name, digest: digest.value, mediaType: manifest.mediaType, size: bytes.length };
  const { recorder } = services.notifications;
  await services.metadata.transaction(async (tx) => {
    await services.pushGuard.guardManifest(tx, route.name, digest.value, manifest, bytes);
    await services.metadata.putManifest(
      route.name,
      {
        digest: digest.value,
        mediaType: manifest.mediaType,
        size: bytes.length,
        artifactType: manifest.artifactType,
        subject: manifest.subject?.digest.value ?? null,
        annotations: manifest.annotations,
        ...referencedDigests(manifest),
      },
      tx,
    );
    await recordLineage(services.metadata, route.name, digest.value, manifest, tx);
    const moved: Array<{ tag: string; previous: string }> = [];
    for (const tag of tags) {
      await services.tagRules.checkPush(tx, route.name, tag, digest.value);
      const previous = await services.metadata.resolveTag(route.name, tag, tx);
      await services.metadata.putTag(route.name, tag, digest.value, tx, grant.subject);
      if (previous !== null && previous !== digest.value) moved.push({ tag, previous });
    }
    // In the change's own transaction: the events exist exactly when the push committed.
    await recorder.record(tx, manifestPushEvents(ctx, grant.subject, target, tags));
    for (const { tag, previous } of moved) await recorder.recordStale(tx, staleEvent(ctx, grant.subject, target, tag, previous));
  });
  recorder.committed();
  ctx.set('Location', manifestLocation(route.name, digest));
  ctx.set('Docker-Content-Digest', digest.value);
  if (manifest.subject) ctx.set('OCI-Subject', manifest.subject.digest.value);
  if (reference.kind === 'digest' && tags.length > 0) ctx.set('OCI-Tag', tags);
  respondEmpty(ctx, 201);
}

/** 202: by digest deletes the manifest and its tags; by tag removes only the tag. DENIED when a tag rule protects a tag it would remove. */
export async function deleteManifest({ ctx, route, grant, services }: RequestContext<RouteOf<'manifest'>>): Promise<void> {
  const { reference } = route;
  const { recorder } = services.notifications;
  const deleted = await services.metadata.transaction(async (tx) => {
    let done: boolean;
    if (reference.kind === 'tag') {
      await services.tagRules.checkDelete(tx, route.name, { tag: reference.tag });
      done = await services.metadata.deleteTag(route.name, reference.tag, tx, grant.subject);
    } else {
      await services.tagRules.checkDelete(tx, route.name, { digest: reference.digest.value });
      done = await services.metadata.deleteManifest(route.name, reference.digest.value, tx, grant.subject);
    }
    const deletedReference = reference.kind === 'tag' ? { tag: reference.tag } : { digest: reference.digest.value };
    if (done) await recorder.record(tx, [deleteEvent(ctx, grant.subject, route.name, deletedReference)]);
    return done;
  });
  if (!deleted) throw manifestUnknown(route.name, reference);
  recorder.committed();
  respondEmpty(ctx, 202);
}
