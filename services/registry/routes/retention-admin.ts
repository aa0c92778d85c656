/**
 * Retention over the lifecycle admin API (docs/lifecycle.md): list, add and remove
 * policies and run them (or see what a run would remove), through the same Retention the
 * admin CLI (lifecycle/retention-cli.ts) uses, so both record the same audit entries. Same
 * authorization (`registry:catalog:*`, access.ts) and the same admin-write checks as the
 * other lifecycle admin routes (lifecycle-admin.ts).
 */
import { fail } from '../../../shared/http/errors.js';
import { readJsonObject } from '../../../shared/http/request-body.js';
import type { RetentionBasis } from '../lifecycle/retention.js';
import { actorOf, adminHandler, stringField } from './lifecycle-admin.js';
import { respondEmpty } from './context.js';
import type { RouteOf } from './path.js';

const MAX_COUNT = 999_999;

/** A whole number 0..MAX_COUNT, or null when absent or null. */
function countField(body: Record<string, unknown>, field: string): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_COUNT) throw fail('REQUEST_INVALID', `${field} must be a whole number from 0 to ${MAX_COUNT} or null`);
  return value;
}

function basisField(body: Record<string, unknown>): RetentionBasis {
  const value = body.basis ?? 'push';
  if (value !== 'push' && value !== 'pull') throw fail('REQUEST_INVALID', 'basis must be "push" or "pull"');
  return value;
}

/** GET: 200 `{"policies":[…]}`, oldest first. */
export const listRetentionPolicies = adminHandler<RouteOf<'retentionPolicies'>>(async ({ ctx, services }) => {
  ctx.body = { policies: await services.retention.list() };
});

/** POST `{"repositoryPattern","tagPattern","keepLast"?,"keepDays"?,"basis"?}`: 201 with the stored policy. */
export const addRetentionPolicy = adminHandler<RouteOf<'retentionPolicies'>>(async (request) => {
  const body = await readJsonObject(request.ctx);
  const policy = await request.services.retention.add(
    {
      repositoryPattern: stringField(body, 'repositoryPattern'),
      tagPattern: stringField(body, 'tagPattern'),
      keepLast: countField(body, 'keepLast'),
      keepDays: countField(body, 'keepDays'),
      basis: basisField(body),
    },
    actorOf(request),
  );
  request.ctx.status = 201;
  request.ctx.set('Location', `/v2/_dockyard/retention/${policy.id}`);
  request.ctx.body = policy;
});

/** DELETE: 204; NOT_FOUND when there is no policy with that id. */
export const removeRetentionPolicy = adminHandler<RouteOf<'retentionPolicy'>>(async (request) => {
  await request.services.retention.remove(request.route.id, actorOf(request));
  respondEmpty(request.ctx, 204);
});

/** POST `{"dryRun"?: boolean}`: 200 with what the run removed (or would remove). */
export const runRetention = adminHandler<RouteOf<'retentionRun'>>(async (request) => {
  const body = await readJsonObject(request.ctx);
  if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw fail('REQUEST_INVALID', 'dryRun must be true or false');
  request.ctx.body = await request.services.retention.run({ dryRun: body.dryRun === true, actor: actorOf(request) });
});
