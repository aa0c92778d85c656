/**
 * The background delivery loop. Each tick claims the leases of the endpoints (outbox-store
 * `claim`), completes waiting stale events, and starts one step per endpoint that has none
 * running: a dead or slow endpoint holds only its own step, never another endpoint's, and
 * never a request. A step is bounded: it queues at most FAN_IN events and sends at most
 * BATCH events in one request (in outbox order; the head waits for its retry time, so
 * order holds). Retry state lives in the delivery rows, so retries and backoff survive a
 * restart; a step killed between sending and marking sends again (at least once).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../../shared/observability/logger.js';
import { staleDependents } from '../events/queries.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Endpoint, EndpointStore } from './endpoint-store.js';
import type { RegistryEvent } from './events.js';
import type { NotificationMetrics } from './metrics.js';
import type { OutboxStore } from './outbox-store.js';
import type { SecretBox } from './secrets.js';
import { deliver } from './send.js';

const FAN_IN = 500;
const BATCH = 20;
const STALE_PER_TICK = 10;
/** How long a wake-up waits for more commits to join it. */
const WAKE_DELAY_MS = 200;
/** Longest wait between retries, whatever the backoff has grown to. */
const MAX_BACKOFF_MS = 60 * 60_000;
/** Delivered deliveries and passed events are kept this long (the delivery log, redelivery). */
const RETENTION_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_ROWS = 1_000;
/**
 * How long a claimed endpoint stays ours without renewal. Every tick renews it (also while a
 * step waits on a slow endpoint), so only a dead or frozen process loses it; another
 * replica then takes over within this time.
 */
export const LEASE_MS = 15_000;

export interface DispatcherDeps {
  outbox: OutboxStore;
  endpoints: EndpointStore;
  box: () => SecretBox;
  metadata: MetadataStore;
  logger: Logger;
  metrics?: NotificationMetrics;
}

/** When the delivery after `failures` failures in a row is tried again: at once (1 s) up to the threshold, then backing off. */
export function retryDelayMs(endpoint: Pick<Endpoint, 'threshold' | 'backoffMs'>, failures: number): number {
  if (failures < endpoint.threshold) return Math.min(1_000, endpoint.backoffMs);
  return Math.min(MAX_BACKOFF_MS, endpoint.backoffMs * 2 ** Math.min(20, failures - endpoint.threshold));
}

export class NotificationDispatcher {
  readonly owner = `${process.pid}-${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly busy = new Map<number, Promise<void>>();
  private lastPrune = 0;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly pollMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.pollMs);
    this.timer.unref();
    void this.tick();
  }

  /** Look soon (a change committed): commits in a burst share one tick instead of one each. */
  wake(): void {
    if (this.stopped || this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      void this.tick();
    }, WAKE_DELAY_MS);
  }

  /** Stops ticking, waits for the running steps (each bounded by its endpoint's timeout) and gives the leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.wakeTimer);
    await this.ticking;
    await Promise.allSettled([...this.busy.values()]);
    await this.deps.outbox.release(this.owner).catch(() => undefined);
  }

  private tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.tickOnce();
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    try {
      const now = Date.now();
      await this.completeStale();
      const endpoints = (await this.deps.endpoints.list()).filter((e) => !e.disabled);
      if (endpoints.length > 0) {
        const held = new Set(await this.deps.outbox.claim(this.owner, now, LEASE_MS));
        for (const endpoint of endpoints) if (held.has(endpoint.id) && !this.busy.has(endpoint.id) && !this.stopped) this.run(endpoint);
      }
      if (now - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = now;
        const pruned = await this.deps.outbox.prune(now - RETENTION_MS, PRUNE_ROWS);
        if (pruned > 0) this.deps.logger.info({ pruned }, 'notifications: pruned old events and deliveries');
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'notifications: dispatcher tick failed');
    } finally {
      this.ticking = null;
      if (this.again && !this.stopped) {
        this.again = false;
        setImmediate(() => void this.tick());
      }
    }
  }

  private run(endpoint: Endpoint): void {
    const step = this.step(endpoint)
      .then((more) => {
        if (more) setImmediate(() => this.wake());
      })
      .catch((err: unknown) => this.deps.logger.warn({ err, endpoint: endpoint.name }, 'notifications: delivery step failed'))
      .finally(() => this.busy.delete(endpoint.id));
    this.busy.set(endpoint.id, step);
  }

  /** Fills in the dependents of stale events (a few per tick); one with none is dropped. */
  private async completeStale(): Promise<void> {
    for (const { id, event } of await this.deps.outbox.unready(0, STALE_PER_TICK)) {
      const { previous, current } = event.stale!;
      const dependents = await staleDependents(this.deps.metadata, event.target.repository, previous, current);
      const complete: RegistryEvent | null =
        dependents.length === 0
          ? null
          : { ...event, stale: { previous, current, dependents: dependents.map((d) => ({ repository: d.repository, digest: d.digest, tags: d.tags, indexes: d.indexes, generation: d.generation, via: d.via })) } };
      await this.deps.outbox.complete(id, complete);
    }
  }

  /** One bounded step for one endpoint; true when more is waiting (run again at once). */
  private async step(endpoint: Endpoint): Promise<boolean> {
    const { outbox, metrics, logger } = this.deps;
    const now = Date.now();
    // An endpoint waiting out its backoff needs nothing queued yet: no write competes with pushes for it.
    const waiting = await outbox.head(endpoint.id, 1);
    if (waiting.length > 0 && waiting[0]!.nextAttemptAt > now) {
      await this.observe(endpoint);
      return false;
    }
    const queued = await outbox.fanIn(endpoint, this.owner, now, FAN_IN);
    if (queued === null) return false;
    if (queued > 0) metrics?.queued.inc({ endpoint: endpoint.name }, queued);
    const head = await outbox.head(endpoint.id, BATCH);
    const due: typeof head = [];
    for (const delivery of head) {
      if (delivery.nextAttemptAt > now) break;
      due.push(delivery);
    }
    let more = queued === FAN_IN;
    if (due.length > 0) {
      let secret: string | null = null;
      let error: string | null = null;
      try {
        secret = endpoint.sealedSecret === null ? null : this.deps.box().open(endpoint.sealedSecret);
      } catch (err) {
        error = (err as Error).message;
      }
      error ??= await deliver(endpoint, due.map((d) => d.event), secret);
      const ids = due.map((d) => d.id);
      if (error === null) {
        await outbox.markDelivered(ids, Date.now());
        metrics?.delivered.inc({ endpoint: endpoint.name }, ids.length);
        logger.debug({ endpoint: endpoint.name, events: ids.length }, 'notifications: delivered');
        more ||= head.length === BATCH;
      } else {
        const failures = due[0]!.attempts + 1;
        const delay = retryDelayMs(endpoint, failures);
        await outbox.markFailed(ids, error, Date.now() + delay);
        metrics?.failed.inc({ endpoint: endpoint.name }, ids.length);
        logger.warn({ endpoint: endpoint.name, events: ids.length, attempts: failures, retryInMs: delay, error }, 'notifications: delivery failed');
        more = false;
      }
    }
    await this.observe(endpoint);
    return more;
  }

  /** The endpoint's backlog into the pending and lag gauges. */
  private async observe(endpoint: Endpoint): Promise<void> {
    const { metrics, outbox } = this.deps;
    if (!metrics) return;
    const backlog = await outbox.backlog(endpoint.id, Date.now());
    metrics.pending.set({ endpoint: endpoint.name }, backlog.pending);
    metrics.lag.set({ endpoint: endpoint.name }, backlog.lagMs / 1000);
  }
}
