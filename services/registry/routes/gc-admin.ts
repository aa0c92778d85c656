/**
 * Garbage collection over the lifecycle admin API (docs/lifecycle.md): the run under way
 * and the last one's report, and starting a run or a dry run in the background
 * (lifecycle/gc-runs.ts). Same authorization (`registry:catalog:*`, access.ts) and the same
 * admin-write checks as the other lifecycle admin routes (lifecycle-admin.ts).
 */
import { fail } from '../../../shared/http/errors.js';
import { readJsonObject } from '../../../shared/http/request-body.js';
import { actorOf, adminHandler } from './lifecycle-admin.js';
import type { RouteOf } from './path.js';

/** GET: 200 `{"running": run|null, "last": run|null}`, a run's report listing at most 100 items of each kind. */
export const getGcStatus = adminHandler<RouteOf<'gcStatus'>>(async ({ ctx, services }) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = services.gcRuns.status();
});

/** POST `{"dryRun"?: boolean}`: 202 with the run just started; CONFLICT while one is running. */
export const startGcRun = adminHandler<RouteOf<'gcRun'>>(async (request) => {
  const body = await readJsonObject(request.ctx);
  if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw fail('REQUEST_INVALID', 'dryRun must be true or false');
  request.ctx.status = 202;
  request.ctx.set('Location', '/v2/_dockyard/gc');
  request.ctx.body = request.services.gcRuns.start(body.dryRun === true, actorOf(request));
});
