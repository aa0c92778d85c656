/**
 * `GET /v2/<name>/referrers/<digest>`: the manifests whose `subject` is the digest, as
 * an OCI image index. Never 404: an unknown subject or repository has no referrers.
 */
import type { ReferrerDescriptor } from '../metadata/store.js';
import type { RequestContext } from './context.js';
import type { RouteOf } from './path.js';

/** The media type of the referrers response. */
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

function toDescriptor(referrer: ReferrerDescriptor): ReferrerDescriptor {
  const descriptor: ReferrerDescriptor = { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size };
  if (referrer.artifactType) descriptor.artifactType = referrer.artifactType;
  if (referrer.annotations && Object.keys(referrer.annotations).length > 0) descriptor.annotations = referrer.annotations;
  return descriptor;
}

/** 200 image index; `OCI-Filters-Applied: artifactType` when `?artifactType=` filtered it. */
export async function listReferrers({ ctx, route, query, services }: RequestContext<RouteOf<'referrers'>>): Promise<void> {
  const artifactType = query.get('artifactType') || undefined;
  const referrers = await services.metadata.listReferrers(route.name, route.digest.value, artifactType);
  const body = { schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: referrers.map(toDescriptor) };
  if (artifactType !== undefined) ctx.set('OCI-Filters-Applied', 'artifactType');
  ctx.status = 200;
  ctx.set('Content-Type', OCI_INDEX_MEDIA_TYPE);
  ctx.body = Buffer.from(JSON.stringify(body));
}
