/**
 * The events, in CNCF distribution's notification format (the envelope
 * `application/vnd.docker.distribution.events.v2+json` holds `events[]` with id, timestamp,
 * action, target, request, actor, source), plus Dockyard's `stale` event: a tag moved and
 * images built on its previous digest are still tagged (`stale.dependents`, CI rebuilds them).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';

export const ENVELOPE_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v2+json';
export type EventAction = 'push' | 'pull' | 'delete' | 'mount' | 'stale';

export interface EventTarget {
  mediaType?: string;
  digest?: string;
  size?: number;
  length?: number;
  repository: string;
  url?: string;
  tag?: string;
  /** mount: the repository the blob was mounted from. */
  fromRepository?: string;
}

export interface EventOrigin {
  request: { id: string; addr: string; host: string; method: string; useragent: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

export interface StaleDependent {
  repository: string;
  digest: string;
  tags: string[];
  indexes: Array<{ digest: string; tags: string[] }>;
  generation: number;
  via: string;
}

export interface RegistryEvent extends EventOrigin {
  id: string;
  timestamp: string;
  action: EventAction;
  target: EventTarget;
  /** `stale` events only: what the tag pointed at, what it points at now, and what was built on the former. */
  stale?: { previous: string; current: string | null; dependents: StaleDependent[] };
}

/** This process, as events name it in `source` (distribution's instanceID is per process too). */
export const INSTANCE_ID = randomUUID();

/** Who asked and through which registry, from a request. */
export function originOf(ctx: Context, subject: string): EventOrigin {
  return {
    request: {
      id: String(ctx.state.requestId ?? ''),
      addr: String(ctx.state.clientAddress ?? ctx.ip ?? ''),
      host: ctx.host,
      method: ctx.method,
      useragent: ctx.get('User-Agent'),
    },
    actor: subject === '' ? {} : { name: subject },
    source: { addr: ctx.host, instanceID: INSTANCE_ID },
  };
}

export function newEvent(action: EventAction, target: EventTarget, origin: EventOrigin): RegistryEvent {
  return { id: randomUUID(), timestamp: new Date().toISOString(), action, target, ...origin };
}

/** distribution's target.url: where the manifest or blob can be fetched. */
export function targetUrl(ctx: Context, repository: string, kind: 'manifests' | 'blobs', digest: string): string {
  return `${ctx.protocol}://${ctx.host}/v2/${repository}/${kind}/${digest}`;
}
