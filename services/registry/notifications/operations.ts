/**
 * The notification admin operations, shared by the REST API (admin-routes.ts) and the CLI
 * (cli.ts) so both validate the same way and write the same audit entries: an endpoint
 * spec is validated with the configuration's own rules (distribution's keys plus `secret`,
 * `repositories`, `format`), and a redelivery is audited.
 */
import { ConfigError } from '../../../shared/config/types.js';
import { parseNotificationEndpoint, type NotificationEndpointConfig } from '../../../shared/config/notifications.js';
import { fail } from '../../../shared/http/errors.js';
import { audit, viewOf, type EndpointView } from './endpoint-store.js';
import type { Notifications } from './index.js';
import type { DeliveryLogEntry } from './outbox-store.js';

export const DELIVERY_LOG_MAX = 1000;

/** An endpoint spec from an API body or CLI arguments; REQUEST_INVALID naming the field. */
export function endpointSpec(value: unknown): NotificationEndpointConfig {
  try {
    return parseNotificationEndpoint(value, 'endpoint');
  } catch (err) {
    if (err instanceof ConfigError) throw fail('REQUEST_INVALID', err.message.replace(/^invalid configuration endpoint\.?/, ''));
    throw err;
  }
}

export async function addEndpoint(n: Notifications, value: unknown, actor: string): Promise<EndpointView> {
  const view = viewOf(await n.endpoints.add(endpointSpec(value), actor));
  await n.recorder.refreshPullInterest();
  return view;
}

export async function removeEndpoint(n: Notifications, name: string, actor: string): Promise<EndpointView> {
  const view = viewOf(await n.endpoints.remove(name, actor));
  await n.recorder.refreshPullInterest();
  return view;
}

/** Every endpoint with its backlog (pending deliveries, age of the oldest in seconds). */
export async function listEndpoints(n: Notifications): Promise<Array<EndpointView & { pending: number; lagSeconds: number }>> {
  const now = Date.now();
  const list = [];
  for (const endpoint of await n.endpoints.list()) {
    const backlog = await n.outbox.backlog(endpoint.id, now);
    list.push({ ...viewOf(endpoint), pending: backlog.pending, lagSeconds: Math.round(backlog.lagMs / 1000) });
  }
  return list;
}

export async function deliveryLog(n: Notifications, endpoint: string | undefined, limit: number): Promise<DeliveryLogEntry[]> {
  if (endpoint !== undefined && !(await n.endpoints.get(endpoint))) throw fail('NOT_FOUND', `no notification endpoint named ${endpoint}`, { name: endpoint });
  return n.outbox.deliveries(endpoint, Math.min(limit, DELIVERY_LOG_MAX));
}

export async function redeliver(n: Notifications, id: number, actor: string): Promise<void> {
  await n.outbox.redeliver(id, Date.now());
  await audit(n.outbox.db, actor, 'notification_delivery.redeliver', `delivery ${id}`, {});
  n.recorder.committed();
}
