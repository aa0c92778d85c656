/**
 * One delivery request: the events as distribution's envelope (or a CloudEvents batch for
 * an endpoint with `format: cloudevents`), the endpoint's headers, and the signature
 * `Dockyard-Signature: sha256=<hex HMAC-SHA256 of the exact body>` when it has a secret.
 * Redirects are not followed (a 3xx is a failure): the endpoint's URL is the one admins approved.
 */
import { ENVELOPE_MEDIA_TYPE, type RegistryEvent } from './events.js';
import type { Endpoint } from './endpoint-store.js';
import { signatureOf } from './secrets.js';

export const SIGNATURE_HEADER = 'Dockyard-Signature';
const USER_AGENT = 'dockyard-notifications/1';

function cloudEvent(event: RegistryEvent): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.id,
    source: `/dockyard/${event.source.addr}`,
    type: `io.dockyard.registry.${event.action}`,
    time: event.timestamp,
    subject: event.target.repository,
    datacontenttype: 'application/json',
    data: event,
  };
}

/** The request body and its media type for the endpoint's format. */
export function bodyFor(endpoint: Pick<Endpoint, 'format'>, events: readonly RegistryEvent[]): { body: string; mediaType: string } {
  if (endpoint.format === 'cloudevents') return { body: JSON.stringify(events.map(cloudEvent)), mediaType: 'application/cloudevents-batch+json' };
  return { body: JSON.stringify({ events }), mediaType: ENVELOPE_MEDIA_TYPE };
}

/** Posts the events; resolves with null on a 2xx, else the reason it failed (never throws). */
export async function deliver(endpoint: Endpoint, events: readonly RegistryEvent[], secret: string | null): Promise<string | null> {
  const { body, mediaType } = bodyFor(endpoint, events);
  const headers = new Headers();
  for (const [name, values] of Object.entries(endpoint.headers)) for (const value of values) headers.append(name, value);
  headers.set('Content-Type', mediaType);
  headers.set('User-Agent', USER_AGENT);
  if (secret !== null) headers.set(SIGNATURE_HEADER, signatureOf(secret, body));
  try {
    const response = await fetch(endpoint.url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(endpoint.timeoutMs) });
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `timed out after ${endpoint.timeoutMs} ms`;
    return e.cause?.code ?? e.cause?.message ?? e.message;
  }
}
