/**
 * What every registry handler receives, and the small response helpers they share so
 * that Location, Range and digest headers are spelled one way everywhere.
 */
import type { Context } from 'koa';
import type { RegistryConfig } from '../../../shared/config/index.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { Digest } from '../../../shared/grammar/reference.js';
import type { Grant } from '../auth/controller.js';
import type { BrowseStore } from '../browse/store.js';
import type { GcRuns } from '../lifecycle/gc-runs.js';
import type { PushGuard } from '../lifecycle/push-guard.js';
import type { QuotaStore } from '../lifecycle/quotas.js';
import type { PullTimes } from '../lifecycle/pull-times.js';
import type { Retention } from '../lifecycle/retention.js';
import type { TagRuleStore } from '../lifecycle/rules-store.js';
import type { TagRuleGuard } from '../lifecycle/tag-rule-guard.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Notifications } from '../notifications/index.js';
import type { BlobStore } from '../storage/blobs.js';
import type { StorageDriver } from '../storage/driver.js';
import type { UploadManager } from '../storage/uploads.js';
import type { RegistryRoute } from './path.js';

/** The components handlers work with. */
export interface RegistryServices {
  config: RegistryConfig;
  storage: StorageDriver;
  metadata: MetadataStore;
  blobs: BlobStore;
  uploads: UploadManager;
  logger: Logger;
  /** Keeps pushes and the garbage collector from racing (lifecycle/push-guard.ts). */
  pushGuard: PushGuard;
  /** Enforces the admins' tag rules on manifest PUT and DELETE (lifecycle/tag-rules.ts). */
  tagRules: TagRuleGuard;
  /** The stored tag rules and the lifecycle audit log, for the admin API. */
  ruleStore: TagRuleStore;
  /** Namespace quotas, and the database usage is computed from (lifecycle/quotas.ts). */
  quotas: QuotaStore;
  /** READMEs and the tag table of the browse API (browse/). */
  browse: BrowseStore;
  /** The notification outbox, endpoints and pull-event buffer (notifications/). */
  notifications: Notifications;
  /** Notes manifest pulls in memory for retention by pulls (lifecycle/pull-times.ts). */
  pullTimes: PullTimes;
  /** Retention policies and runs, for the admin API (lifecycle/retention.ts). */
  retention: Retention;
  /** Garbage collection runs started over the admin API (lifecycle/gc-runs.ts). */
  gcRuns: GcRuns;
}

/** One authorized request, as a handler sees it. */
export interface RequestContext<R extends RegistryRoute = RegistryRoute> {
  ctx: Context;
  route: R;
  query: URLSearchParams;
  grant: Grant;
  /** False when only the requirement's `minimum` was granted (a mount without pull on `from`, a catalog `list` grant). */
  fullAccess: boolean;
  services: RegistryServices;
}

/** A handler for one route kind and method. */
export type Handler<R extends RegistryRoute> = (request: RequestContext<R>) => Promise<void>;

/** Ends the response with `status`, no body and `Content-Length: 0`. */
export function respondEmpty(ctx: Context, status: number): void {
  // Koa turns a null body into 204 unless the status is set after it.
  ctx.body = null;
  ctx.status = status;
}

/** `/v2/<name>/blobs/<digest>` */
export function blobLocation(name: string, digest: Digest): string {
  return `/v2/${name}/blobs/${digest.value}`;
}

/** `/v2/<name>/manifests/<digest>` */
export function manifestLocation(name: string, digest: Digest): string {
  return `/v2/${name}/manifests/${digest.value}`;
}

/** `/v2/<name>/blobs/uploads/<id>` */
export function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

/** The upload progress header: `0-<offset-1>`, and `0-0` before the first byte (as CNCF distribution). */
export function uploadRange(offset: number): string {
  return `0-${Math.max(offset - 1, 0)}`;
}

/** The request's Content-Length, or undefined when it has none (chunked transfer). */
export function requestContentLength(ctx: Context): number | undefined {
  const raw = ctx.get('Content-Length');
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** True when the request carries a body (a positive Content-Length or chunked transfer). */
export function requestHasBody(ctx: Context): boolean {
  const length = requestContentLength(ctx);
  return length === undefined ? ctx.get('Transfer-Encoding') !== '' : length > 0;
}
