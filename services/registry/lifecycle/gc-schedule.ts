/**
 * Runs the retention policies and then the garbage collector (which frees what retention
 * removed) in the background every registry.gc.intervalseconds, one run
 * at a time, in the one process of a cluster that does housekeeping. Several replicas may
 * each run it: every deletion is locked and re-checked, so a second collector only finds
 * less to do. Stopping aborts the run at its next batch boundary and waits for it.
 */
import type { Logger } from '../../../shared/observability/logger.js';
import type { GarbageCollector } from './gc.js';

/** A started background schedule. */
export interface GcSchedule {
  stop(): Promise<void>;
}

/** Starts running `before` (retention) then `collector` every `intervalSeconds` (the first run after one interval). */
export function scheduleGc(collector: GarbageCollector, intervalSeconds: number, logger: Logger, before?: () => Promise<unknown>): GcSchedule {
  const abort = new AbortController();
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = Promise.resolve(before?.())
      .then(() => (abort.signal.aborted ? undefined : collector.run({ signal: abort.signal })))
      .then(
        () => undefined,
        (err: unknown) => logger.error({ err }, 'garbage collection failed'),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
