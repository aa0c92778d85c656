/** The notification series on the registry's metrics registry, labelled by endpoint name. */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface NotificationMetrics {
  queued: Counter<'endpoint'>;
  delivered: Counter<'endpoint'>;
  failed: Counter<'endpoint'>;
  pending: Gauge<'endpoint'>;
  lag: Gauge<'endpoint'>;
}

function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function notificationMetrics(registry: Registry): NotificationMetrics {
  const labelNames = ['endpoint'] as const;
  return {
    queued: once(registry, 'registry_notifications_queued_total', () =>
      new Counter({ name: 'registry_notifications_queued_total', help: 'Events queued for delivery to an endpoint.', labelNames, registers: [registry] }),
    ),
    delivered: once(registry, 'registry_notifications_delivered_total', () =>
      new Counter({ name: 'registry_notifications_delivered_total', help: 'Events an endpoint acknowledged (2xx).', labelNames, registers: [registry] }),
    ),
    failed: once(registry, 'registry_notifications_failed_total', () =>
      new Counter({ name: 'registry_notifications_failed_total', help: 'Event deliveries that failed (error, timeout, non-2xx); each is retried.', labelNames, registers: [registry] }),
    ),
    pending: once(registry, 'registry_notifications_pending', () =>
      new Gauge({ name: 'registry_notifications_pending', help: 'Events waiting for delivery to an endpoint.', labelNames, registers: [registry] }),
    ),
    lag: once(registry, 'registry_notifications_lag_seconds', () =>
      new Gauge({ name: 'registry_notifications_lag_seconds', help: 'Age of the oldest event not yet delivered to an endpoint.', labelNames, registers: [registry] }),
    ),
  };
}
