/**
 * The notification admin API under `/v2/_dockyard/notifications/` (docs/notifications.md):
 * endpoints (list, add, remove), the delivery log and redelivery, through the same
 * operations as the CLI, audited with the actor `api:<token subject>`. access.ts requires
 * `registry:catalog:*` (admins) like the lifecycle admin API; writes must be JSON from no
 * other site (shared/http/middleware/admin-writes.ts). A secret is accepted on creation
 * and never returned.
 */
import { fail } from '../../../shared/http/errors.js';
import { assertAdminWrite } from '../../../shared/http/middleware/admin-writes.js';
import { readJsonObject } from '../../../shared/http/request-body.js';
import { respondEmpty, type Handler, type RequestContext } from '../routes/context.js';
import type { RegistryRoute, RouteOf } from '../routes/path.js';
import { addEndpoint, deliveryLog, listEndpoints, redeliver, removeEndpoint } from './operations.js';

const actorOf = (request: RequestContext): string => `api:${request.grant.subject || 'anonymous'}`;

function adminHandler<R extends RegistryRoute>(handler: Handler<R>): Handler<R> {
  return async (request) => {
    assertAdminWrite(request.ctx);
    await handler(request);
  };
}

/** GET: 200 `{"endpoints":[…]}` with each one's backlog. */
export const listNotificationEndpoints = adminHandler<RouteOf<'notificationEndpoints'>>(async ({ ctx, services }) => {
  ctx.body = { endpoints: await listEndpoints(services.notifications) };
});

/** POST `{"name","url","secret"?,"repositories"?,…}` (the configuration's keys): 201 with the endpoint (no secret). */
export const addNotificationEndpoint = adminHandler<RouteOf<'notificationEndpoints'>>(async (request) => {
  const endpoint = await addEndpoint(request.services.notifications, await readJsonObject(request.ctx), actorOf(request));
  request.ctx.status = 201;
  request.ctx.set('Location', `/v2/_dockyard/notifications/endpoints/${endpoint.name}`);
  request.ctx.body = endpoint;
});

/** DELETE: 200 with the removed endpoint; NOT_FOUND, or CONFLICT for one from the configuration file. */
export const removeNotificationEndpoint = adminHandler<RouteOf<'notificationEndpoint'>>(async (request) => {
  request.ctx.body = await removeEndpoint(request.services.notifications, request.route.endpoint, actorOf(request));
});

/** GET `?endpoint=NAME&limit=N`: 200 `{"deliveries":[…]}`, newest first. */
export const listNotificationDeliveries = adminHandler<RouteOf<'notificationDeliveries'>>(async ({ ctx, query, services }) => {
  const limitText = query.get('limit') ?? '100';
  if (!/^[1-9]\d{0,3}$/.test(limitText)) throw fail('REQUEST_INVALID', 'limit must be an integer from 1 to 1000');
  ctx.body = { deliveries: await deliveryLog(services.notifications, query.get('endpoint') ?? undefined, Number(limitText)) };
});

/** POST (empty body): 204, the delivery is queued again. */
export const redeliverNotification = adminHandler<RouteOf<'notificationRedeliver'>>(async (request) => {
  await redeliver(request.services.notifications, request.route.id, actorOf(request));
  respondEmpty(request.ctx, 204);
});
