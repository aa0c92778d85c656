/**
 * The one parser of registry URLs. Repository names contain `/`, so a router with
 * `:name` segments cannot match them; instead one regex on the raw (still percent-encoded)
 * path splits off the endpoint suffix, and every captured value passes the OCI grammar
 * before anything else sees it. A `%`, `..` or empty component therefore never reaches
 * storage or SQL: it fails the grammar with the spec's error code.
 */
import { fail } from '../../../shared/http/errors.js';
import { assertName, assertTag, looksLikeDigest, parseDigest, type Digest } from '../../../shared/grammar/reference.js';

/** A manifest is addressed by tag or by digest. */
export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

/** Every registry endpoint, with its validated path parameters. */
export type RegistryRoute =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: ManifestReference }
  | { kind: 'blob'; name: string; digest: Digest }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; uploadId: string }
  | { kind: 'referrers'; name: string; digest: Digest }
  | { kind: 'repositoryUsage'; name: string }
  | { kind: 'namespaceUsage'; namespace: string }
  | { kind: 'tagRules' }
  | { kind: 'tagRule'; id: number }
  | { kind: 'tagRulePreset'; preset: string }
  | { kind: 'quotas' }
  | { kind: 'quota'; namespace: string }
  | { kind: 'lifecycleAudit' }
  | { kind: 'browseRepositories' }
  | { kind: 'browseTags'; name: string }
  | { kind: 'readme'; name: string }
  | { kind: 'repositoryRules'; name: string }
  | { kind: 'notificationEndpoints' }
  | { kind: 'notificationEndpoint'; endpoint: string }
  | { kind: 'notificationDeliveries' }
  | { kind: 'notificationRedeliver'; id: number }
  | { kind: 'retentionPolicies' }
  | { kind: 'retentionPolicy'; id: number }
  | { kind: 'retentionRun' }
  | { kind: 'gcStatus' }
  | { kind: 'gcRun' };

/** The `kind` of a route. */
export type RouteKind = RegistryRoute['kind'];

/** The route variant of one kind. */
export type RouteOf<K extends RouteKind> = Extract<RegistryRoute, { kind: K }>;

/** Each route's path template, the label logs and metrics use instead of the raw path. */
export const ROUTE_TEMPLATES: { readonly [K in RouteKind]: string } = {
  base: '/v2/',
  catalog: '/v2/_catalog',
  tags: '/v2/<name>/tags/list',
  manifest: '/v2/<name>/manifests/<reference>',
  blob: '/v2/<name>/blobs/<digest>',
  uploads: '/v2/<name>/blobs/uploads/',
  upload: '/v2/<name>/blobs/uploads/<uuid>',
  referrers: '/v2/<name>/referrers/<digest>',
  repositoryUsage: '/v2/<name>/_dockyard/usage',
  namespaceUsage: '/v2/_dockyard/usage/<namespace>',
  tagRules: '/v2/_dockyard/rules',
  tagRule: '/v2/_dockyard/rules/<id>',
  tagRulePreset: '/v2/_dockyard/rules/presets/<preset>',
  quotas: '/v2/_dockyard/quotas',
  quota: '/v2/_dockyard/quotas/<namespace>',
  lifecycleAudit: '/v2/_dockyard/audit',
  browseRepositories: '/v2/_dockyard/repositories',
  browseTags: '/v2/<name>/_dockyard/tags',
  readme: '/v2/<name>/_dockyard/readme',
  repositoryRules: '/v2/<name>/_dockyard/rules',
  notificationEndpoints: '/v2/_dockyard/notifications/endpoints',
  notificationEndpoint: '/v2/_dockyard/notifications/endpoints/<name>',
  notificationDeliveries: '/v2/_dockyard/notifications/deliveries',
  notificationRedeliver: '/v2/_dockyard/notifications/deliveries/<id>/redeliver',
  retentionPolicies: '/v2/_dockyard/retention',
  retentionPolicy: '/v2/_dockyard/retention/<id>',
  retentionRun: '/v2/_dockyard/retention/run',
  gcStatus: '/v2/_dockyard/gc',
  gcRun: '/v2/_dockyard/gc/runs',
};

// The name is greedy, so `/v2/a/manifests/manifests/x` is manifest `x` of repository
// `a/manifests`. `blobs/uploads` is tried before `blobs/<digest>` at the same split.
const REPOSITORY_ROUTE =
  /^\/v2\/(.+)\/(?:tags\/(list)|manifests\/([^/]+)|blobs\/uploads(?:\/([^/]*))?|blobs\/([^/]+)|referrers\/([^/]+)|_dockyard\/(usage|tags|readme|rules))$/;
// Dockyard's own endpoints live under `_dockyard`, which no repository name can contain.
const NAMESPACE_USAGE = /^\/v2\/_dockyard\/usage\/([^/]+)$/;
// The lifecycle admin API (routes/lifecycle-admin.ts). A rule id or preset name of another
// shape names no rule or preset: no endpoint (404).
const LIFECYCLE_ADMIN =
  /^\/v2\/_dockyard\/(?:(rules)|rules\/(\d{1,9})|rules\/presets\/([a-z0-9-]{1,64})|(quotas)|quotas\/([^/]+)|(audit)|(retention)|retention\/(\d{1,9})|retention\/(run)|(gc)|gc\/(runs))$/;

// The notification admin API (notifications/admin-routes.ts); endpoint names follow the config's grammar.
const NOTIFICATIONS_ADMIN = /^\/v2\/_dockyard\/notifications\/(?:(endpoints)|endpoints\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})|(deliveries)|deliveries\/(\d{1,15})\/redeliver)$/;

function notificationsAdminRoute([, endpoints, endpoint, deliveries, id]: RegExpExecArray): RegistryRoute {
  if (endpoints !== undefined) return { kind: 'notificationEndpoints' };
  if (endpoint !== undefined) return { kind: 'notificationEndpoint', endpoint };
  if (deliveries !== undefined) return { kind: 'notificationDeliveries' };
  return { kind: 'notificationRedeliver', id: Number(id) };
}

/** Upload ids are ours (UUIDs), so anything else cannot name a session. */
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;

function parseReference(reference: string): ManifestReference {
  if (looksLikeDigest(reference)) return { kind: 'digest', digest: parseDigest(reference) };
  return { kind: 'tag', tag: assertTag(reference) };
}

function lifecycleAdminRoute([, rules, ruleId, preset, quotas, quotaNamespace, , retention, retentionId, retentionRun, gc, gcRuns]: RegExpExecArray): RegistryRoute {
  if (gc !== undefined) return { kind: 'gcStatus' };
  if (gcRuns !== undefined) return { kind: 'gcRun' };
  if (retention !== undefined) return { kind: 'retentionPolicies' };
  if (retentionId !== undefined) return { kind: 'retentionPolicy', id: Number(retentionId) };
  if (retentionRun !== undefined) return { kind: 'retentionRun' };
  if (rules !== undefined) return { kind: 'tagRules' };
  if (ruleId !== undefined) return { kind: 'tagRule', id: Number(ruleId) };
  if (preset !== undefined) return { kind: 'tagRulePreset', preset };
  if (quotas !== undefined) return { kind: 'quotas' };
  if (quotaNamespace !== undefined) return { kind: 'quota', namespace: assertName(quotaNamespace) };
  return { kind: 'lifecycleAudit' };
}

/**
 * Parses a raw request path into a route. Returns null for paths that are no registry
 * endpoint (404); throws NAME_INVALID, TAG_INVALID, DIGEST_INVALID or BLOB_UPLOAD_UNKNOWN
 * for an endpoint whose parameters break the grammar.
 */
export function parseRegistryPath(rawPath: string): RegistryRoute | null {
  if (rawPath === '/v2' || rawPath === '/v2/') return { kind: 'base' };
  if (rawPath === '/v2/_catalog') return { kind: 'catalog' };
  if (rawPath === '/v2/_dockyard/repositories') return { kind: 'browseRepositories' };
  const namespace = NAMESPACE_USAGE.exec(rawPath);
  if (namespace) return { kind: 'namespaceUsage', namespace: assertName(namespace[1]!) };
  const lifecycle = LIFECYCLE_ADMIN.exec(rawPath);
  if (lifecycle) return lifecycleAdminRoute(lifecycle);
  const notifications = NOTIFICATIONS_ADMIN.exec(rawPath);
  if (notifications) return notificationsAdminRoute(notifications);
  const match = REPOSITORY_ROUTE.exec(rawPath);
  if (!match) return null;
  const [, rawName, tagsList, reference, uploadId, blobDigest, subjectDigest, extra] = match;
  const name = assertName(rawName);
  if (extra === 'usage') return { kind: 'repositoryUsage', name };
  if (extra === 'tags') return { kind: 'browseTags', name };
  if (extra === 'readme') return { kind: 'readme', name };
  if (extra === 'rules') return { kind: 'repositoryRules', name };
  if (tagsList !== undefined) return { kind: 'tags', name };
  if (reference !== undefined) return { kind: 'manifest', name, reference: parseReference(reference) };
  if (blobDigest !== undefined) return { kind: 'blob', name, digest: parseDigest(blobDigest) };
  if (subjectDigest !== undefined) return { kind: 'referrers', name, digest: parseDigest(subjectDigest) };
  if (uploadId === undefined || uploadId === '') return { kind: 'uploads', name };
  if (!UPLOAD_ID.test(uploadId)) throw fail('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: uploadId.slice(0, 200) });
  return { kind: 'upload', name, uploadId };
}
