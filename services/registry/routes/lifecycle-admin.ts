/**
 * The lifecycle admin API (docs/lifecycle.md): tag rules, the release preset, namespace
 * quotas and their audit log over HTTP, through the same stores the admin CLI
 * (lifecycle/rules-cli.ts, quotas-cli.ts) uses, so both record the same audit entries;
 * the actor is `api:<token subject>`. access.ts requires `registry:catalog:*` for all of
 * it. State-changing requests must say `Content-Type: application/json` and come from no
 * other site (shared/http/middleware/admin-writes.ts), so a browser holding an admin's
 * credentials cannot be made to change policy by another page.
 */
import { fail } from '../../../shared/http/errors.js';
import { assertAdminWrite } from '../../../shared/http/middleware/admin-writes.js';
import { readJsonObject } from '../../../shared/http/request-body.js';
import { quotasWithUsage } from '../lifecycle/quotas.js';
import type { TagRuleKind } from '../lifecycle/tag-rules.js';
import { respondEmpty, type Handler, type RequestContext } from './context.js';
import type { RegistryRoute, RouteOf } from './path.js';

const AUDIT_ENTRIES = 100;

/** The `api:<token subject>` actor of audit entries. */
export function actorOf(request: RequestContext): string {
  return `api:${request.grant.subject || 'anonymous'}`;
}

/** The admin-write check, then the handler. */
export function adminHandler<R extends RegistryRoute>(handler: Handler<R>): Handler<R> {
  return async (request) => {
    assertAdminWrite(request.ctx);
    await handler(request);
  };
}

/** A required string field of a JSON body. */
export function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw fail('REQUEST_INVALID', `${field} must be a string`);
  return value;
}

/** A byte count, or null for `null`; undefined when absent. */
function bytesField(body: Record<string, unknown>, field: string): number | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail('REQUEST_INVALID', `${field} must be a whole number of bytes (0 or more) or null`);
  return value;
}

/** GET: 200 `{"rules":[…]}`, oldest first. */
export const listTagRules = adminHandler<RouteOf<'tagRules'>>(async ({ ctx, services }) => {
  ctx.body = { rules: await services.ruleStore.list() };
});

/** POST `{"kind","repositoryPattern","tagPattern"}`: 201 with the stored rule (an identical rule is returned as is). */
export const addTagRule = adminHandler<RouteOf<'tagRules'>>(async (request) => {
  const body = await readJsonObject(request.ctx);
  const spec = { kind: stringField(body, 'kind') as TagRuleKind, repositoryPattern: stringField(body, 'repositoryPattern'), tagPattern: stringField(body, 'tagPattern') };
  const rule = await request.services.ruleStore.add(spec, actorOf(request));
  request.ctx.status = 201;
  request.ctx.set('Location', `/v2/_dockyard/rules/${rule.id}`);
  request.ctx.body = rule;
});

/** DELETE: 200 with the removed rule; NOT_FOUND when there is none with that id. */
export const removeTagRule = adminHandler<RouteOf<'tagRule'>>(async (request) => {
  request.ctx.body = await request.services.ruleStore.remove(request.route.id, actorOf(request));
});

/** POST (empty body): 200 `{"rules":[…]}`, the preset's rules as stored; NOT_FOUND for an unknown preset. */
export const applyTagRulePreset = adminHandler<RouteOf<'tagRulePreset'>>(async (request) => {
  request.ctx.body = { rules: await request.services.ruleStore.applyPreset(request.route.preset, actorOf(request)) };
});

/** GET: 200 `{"quotas":[{"namespace","hardBytes","softBytes","usageBytes"}]}`. */
export const listQuotas = adminHandler<RouteOf<'quotas'>>(async ({ ctx, services }) => {
  ctx.body = { quotas: await quotasWithUsage(services.quotas) };
});

/** PUT `{"hardBytes", "softBytes"?}`: 200 with the quota as set. */
export const setQuota = adminHandler<RouteOf<'quota'>>(async (request) => {
  const body = await readJsonObject(request.ctx);
  const hardBytes = bytesField(body, 'hardBytes');
  if (hardBytes === undefined || hardBytes === null) throw fail('REQUEST_INVALID', 'hardBytes is required (DELETE removes a quota)');
  const quota = { namespace: request.route.namespace, hardBytes, softBytes: bytesField(body, 'softBytes') ?? null };
  await request.services.quotas.set(quota, actorOf(request));
  request.ctx.body = quota;
});

/** DELETE: 204; removing a quota that is not there changes nothing (and is audited all the same). */
export const removeQuota = adminHandler<RouteOf<'quota'>>(async (request) => {
  await request.services.quotas.set({ namespace: request.route.namespace, hardBytes: null, softBytes: null }, actorOf(request));
  respondEmpty(request.ctx, 204);
});

/** GET: 200 `{"entries":[…]}`, the newest first. */
export const listLifecycleAudit = adminHandler<RouteOf<'lifecycleAudit'>>(async ({ ctx, services }) => {
  ctx.body = { entries: await services.ruleStore.auditLog(AUDIT_ENTRIES) };
});
