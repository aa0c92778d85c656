/**
 * The events each registry request produces, built from the request (distribution's
 * `request`, `actor`, `source`) and what it changed. Blobs are `application/octet-stream`
 * targets, as in distribution (endpoints usually ignore them with `ignoredmediatypes`).
 */
import type { Context } from 'koa';
import { newEvent, originOf, targetUrl, type RegistryEvent } from './events.js';

export const BLOB_MEDIA_TYPE = 'application/octet-stream';

export interface ManifestTarget {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
}

/** A manifest push: one event per tag applied, or one without a tag. */
export function manifestPushEvents(ctx: Context, subject: string, manifest: ManifestTarget, tags: readonly string[]): RegistryEvent[] {
  const origin = originOf(ctx, subject);
  const target = { ...manifest, length: manifest.size, url: targetUrl(ctx, manifest.repository, 'manifests', manifest.digest) };
  return (tags.length === 0 ? [undefined] : tags).map((tag) => newEvent('push', tag === undefined ? target : { ...target, tag }, origin));
}

/** A manifest pull (GET by tag or digest). */
export function manifestPullEvent(ctx: Context, subject: string, manifest: ManifestTarget, tag: string | undefined): RegistryEvent {
  const target = { ...manifest, length: manifest.size, url: targetUrl(ctx, manifest.repository, 'manifests', manifest.digest), ...(tag === undefined ? {} : { tag }) };
  return newEvent('pull', target, originOf(ctx, subject));
}

/** A tag that moved away from `previous`: completed with the stale dependents by the dispatcher. */
export function staleEvent(ctx: Context, subject: string, manifest: ManifestTarget, tag: string, previous: string): RegistryEvent {
  const target = { ...manifest, length: manifest.size, tag, url: targetUrl(ctx, manifest.repository, 'manifests', manifest.digest) };
  return { ...newEvent('stale', target, originOf(ctx, subject)), stale: { previous, current: manifest.digest, dependents: [] } };
}

/** A blob uploaded (push), mounted from another repository (mount) or downloaded (pull). */
export function blobEvent(ctx: Context, subject: string, action: 'push' | 'pull' | 'mount', blob: { repository: string; digest: string; size: number; from?: string }): RegistryEvent {
  const target = {
    mediaType: BLOB_MEDIA_TYPE,
    digest: blob.digest,
    size: blob.size,
    length: blob.size,
    repository: blob.repository,
    url: targetUrl(ctx, blob.repository, 'blobs', blob.digest),
    ...(blob.from === undefined ? {} : { fromRepository: blob.from }),
  };
  return newEvent(action, target, originOf(ctx, subject));
}

/** A manifest deleted by digest, a tag deleted, or a blob unlinked from a repository. */
export function deleteEvent(ctx: Context, subject: string, repository: string, reference: { tag: string } | { digest: string; blob?: boolean }): RegistryEvent {
  const target = 'tag' in reference ? { repository, tag: reference.tag } : { repository, digest: reference.digest, ...(reference.blob ? { mediaType: BLOB_MEDIA_TYPE } : {}) };
  return newEvent('delete', target, originOf(ctx, subject));
}
