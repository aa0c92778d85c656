/**
 * The one place that decides which access a registry request needs. Every access
 * controller (token, htpasswd, none) is asked for exactly these records, so a token's
 * scope, a challenge's `scope=` and the permission check always agree.
 */
import { isValidName, tryParseDigest, type Digest } from '../../shared/grammar/reference.js';
import { CATALOG_LIST_ACTION } from '../../shared/grammar/repository-pattern.js';
import type { AccessRecord } from '../../shared/grammar/scope.js';
import type { RegistryRoute } from './routes/path.js';

/**
 * The lifecycle admin API (tag rules, quotas, retention, their audit log): registry-wide policy, so
 * it needs what only admins are granted, `registry:catalog:*` (services/auth/authorize.ts
 * gives everyone else at most `registry:catalog:list`).
 */
const LIFECYCLE_ADMIN_KINDS = [
  'tagRules',
  'tagRule',
  'tagRulePreset',
  'quotas',
  'quota',
  'lifecycleAudit',
  'retentionPolicies',
  'retentionPolicy',
  'retentionRun',
  // Garbage collection (its last run's report, starting a run) is registry-wide too.
  'gcStatus',
  'gcRun',
  // The notification admin API (endpoints, delivery log, redelivery) is admin-only the same way.
  'notificationEndpoints',
  'notificationEndpoint',
  'notificationDeliveries',
  'notificationRedeliver',
] as const;
const LIFECYCLE_ADMIN_ROUTES: ReadonlySet<string> = new Set(LIFECYCLE_ADMIN_KINDS satisfies ReadonlyArray<RegistryRoute['kind']>);

type LifecycleAdminRoute = Extract<RegistryRoute, { kind: (typeof LIFECYCLE_ADMIN_KINDS)[number] }>;

function isLifecycleAdmin(route: RegistryRoute): route is LifecycleAdminRoute {
  return LIFECYCLE_ADMIN_ROUTES.has(route.kind);
}

/** The HTTP methods the registry serves. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a request needs; `minimum` is set when a smaller grant still serves it in a reduced way. */
export interface AccessRequirement {
  required: AccessRecord[];
  /**
   * A cross-repository mount needs pull on `from` as well; without it the request is
   * still a valid upload start (the spec's fallback to 202), so it needs only this. The
   * catalog needs `registry:catalog:*` for everything, `registry:catalog:list` for the
   * repositories the token's patterns cover.
   */
  minimum?: AccessRecord[];
}

/** The catalog resource of the Docker token spec. */
export const CATALOG_ACCESS: AccessRecord = { type: 'registry', name: 'catalog', actions: ['*'] };
/** The catalog listing only what a token's patterns cover (routes/catalog.ts). */
export const CATALOG_LIST_ACCESS: AccessRecord = { type: 'registry', name: 'catalog', actions: [CATALOG_LIST_ACTION] };

function repositoryActions(method: HttpMethod): string[] {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return ['pull'];
    case 'POST':
    case 'PUT':
    case 'PATCH':
      return ['pull', 'push'];
    case 'DELETE':
      return ['delete'];
  }
}

/** The mount source named by `?mount=<digest>&from=<repository>`, when both are well-formed. */
export function mountSource(query: URLSearchParams): { from: string; digest: Digest } | null {
  const from = query.get('from');
  const mount = query.get('mount');
  if (from === null || mount === null || !isValidName(from)) return null;
  const digest = tryParseDigest(mount);
  return digest ? { from, digest } : null;
}

/**
 * Maps a matched route and method (and, for an upload start, the mount query) to the
 * access it requires: GET/HEAD pull; POST/PUT/PATCH pull+push; DELETE delete; a mount
 * also pull on `from`; the catalog `registry:catalog:*` (at least `list`), a namespace's
 * usage and the lifecycle admin API `registry:catalog:*` (a repository's usage: pull on
 * it); `GET /v2/` nothing beyond a valid identity.
 */
export function requiredAccess(route: RegistryRoute, method: HttpMethod, query: URLSearchParams): AccessRequirement {
  if (route.kind === 'base') return { required: [] };
  // The browse API's repository list is a catalog listing with a search (browse/routes.ts).
  if (route.kind === 'catalog' || route.kind === 'browseRepositories') {
    return { required: [{ ...CATALOG_ACCESS, actions: [...CATALOG_ACCESS.actions] }], minimum: [{ ...CATALOG_LIST_ACCESS, actions: [...CATALOG_LIST_ACCESS.actions] }] };
  }
  // A namespace's usage sums repositories the caller may not see one by one: catalog access.
  if (route.kind === 'namespaceUsage' || isLifecycleAdmin(route)) return { required: [{ ...CATALOG_ACCESS, actions: [...CATALOG_ACCESS.actions] }] };
  const own: AccessRecord = { type: 'repository', name: route.name, actions: repositoryActions(method) };
  if (route.kind === 'uploads' && method === 'POST') {
    const source = mountSource(query);
    if (source && source.from !== route.name) {
      return {
        required: [own, { type: 'repository', name: source.from, actions: ['pull'] }],
        minimum: [{ ...own, actions: [...own.actions] }],
      };
    }
  }
  return { required: [own] };
}
