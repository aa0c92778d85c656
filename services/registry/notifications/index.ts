/**
 * Notifications (issue 14): webhooks CI can trust. Every change a request makes (manifest
 * push and tag move, delete, blob upload and mount) writes its events, in CNCF
 * distribution's envelope format, into an outbox table in the SAME transaction as the
 * change (recorder.ts), so an event exists exactly when its change committed and survives
 * any crash after that; pulls, which change nothing, are batched in memory and written
 * once a second so they never wait for a write. A tag that moved away from a digest other
 * images were built on also writes a `stale` event, completed with those images (the
 * lineage query of services/registry/events) by the dispatcher. The dispatcher
 * (dispatcher.ts) runs in the background of the registry process: per endpoint it holds a
 * lease (so replicas on one PostgreSQL never send one endpoint's events concurrently),
 * moves a cursor over the outbox making a delivery row per wanted event, and sends the
 * oldest pending ones in order, signed with the endpoint's secret, retrying with backoff
 * from state kept in those rows: at least once per endpoint, in order, across restarts,
 * and never in a request's path. Endpoints come from the configuration file
 * (distribution's `notifications.endpoints`) and from the admin API and CLI
 * (admin-routes.ts, cli.ts), which also show the delivery log and redeliver.
 */
import type { Knex } from 'knex';
import type { NotificationEndpointConfig } from '../../../shared/config/notifications.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { Registry } from '../../../shared/observability/metrics.js';
import type { MetadataStore } from '../metadata/store.js';
import { NotificationDispatcher } from './dispatcher.js';
import { EndpointStore } from './endpoint-store.js';
import { notificationMetrics } from './metrics.js';
import { OutboxStore } from './outbox-store.js';
import { NotificationRecorder } from './recorder.js';
import { notificationKeyPath, SecretBox } from './secrets.js';

export { NotificationDispatcher } from './dispatcher.js';
export { NotificationRecorder } from './recorder.js';

/** The notification parts a registry app holds. */
export interface Notifications {
  recorder: NotificationRecorder;
  endpoints: EndpointStore;
  outbox: OutboxStore;
}

/** The sealing key of `dataDir`, read (or created) on first use. */
export function secretBoxFor(dataDir: string): () => SecretBox {
  let box: SecretBox | undefined;
  return () => (box ??= SecretBox.forFile(notificationKeyPath(dataDir)));
}

export function createNotifications(db: Knex, dataDir: string, logger: Logger): Notifications {
  const outbox = new OutboxStore(db);
  return { recorder: new NotificationRecorder(outbox, logger), endpoints: new EndpointStore(db, secretBoxFor(dataDir)), outbox };
}

/**
 * Makes the configured endpoints the stored `config` ones and starts delivering; the
 * recorder wakes the dispatcher after each change so events go out without waiting a tick.
 */
export async function startDispatcher(
  notifications: Notifications,
  options: { configured: readonly NotificationEndpointConfig[]; dataDir: string; metadata: MetadataStore; logger: Logger; metrics?: Registry; pollMs?: number },
): Promise<NotificationDispatcher> {
  // Replicas starting together race on inserting the same config endpoint: the loser retries once and finds it.
  await notifications.endpoints.syncConfig(options.configured).catch(async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await notifications.endpoints.syncConfig(options.configured);
  });
  await notifications.outbox.releaseStaleOnSingleHost();
  await notifications.recorder.refreshPullInterest();
  const dispatcher = new NotificationDispatcher(
    {
      outbox: notifications.outbox,
      endpoints: notifications.endpoints,
      box: secretBoxFor(options.dataDir),
      metadata: options.metadata,
      logger: options.logger,
      metrics: options.metrics ? notificationMetrics(options.metrics) : undefined,
    },
    options.pollMs,
  );
  notifications.recorder.onCommitted(() => dispatcher.wake());
  dispatcher.start();
  return dispatcher;
}
