/**
 * How every service entry point runs: one process (DOCKYARD_WORKERS=1, the default: nothing
 * is forked, behaviour as ever) or a node:cluster of N workers sharing the listening socket.
 *
 * In a cluster the primary does the one-time work (configuration check, migrations, keys,
 * the first admin with its password printed once), forks the workers and waits until each
 * serves. Workers share nothing in memory: each opens its own database connections, builds
 * the app and listens (the primary hands connections out round-robin). Worker 1 (the slot,
 * kept across restarts) runs the periodic clean-ups. A worker that dies is replaced, after a
 * back-off that grows while it keeps dying young. SIGTERM/SIGINT on the primary stop every
 * worker gracefully (in-flight requests finish, shared/process/shutdown.ts); the primary exits 0
 * once all of them have. The primary also serves the cross-worker locks (cluster-mutex.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { ClusterLockTable } from './cluster-mutex.js';
import { lockServiceDirectories, type ServiceDirectory } from './data-lock.js';
import { runEntryPoint, type Started } from './entry-point.js';
import type { Logger } from '../observability/logger.js';

/** What this process is in the service. */
export interface ProcessRole {
  /** The primary already did the one-time work: open the database, do not migrate or bootstrap. */
  prepared: boolean;
  /** This process runs the periodic clean-ups (exactly one process does). */
  housekeeping: boolean;
}

/**
 * A started service; `banner` is printed to stdout and each of `warnings` as a line on
 * stderr, once the whole service serves (once per start, not once per worker).
 */
export interface StartedService extends Started {
  banner?: string;
  warnings?: string[];
}

/** A service as its entry point runs it, alone or as a cluster. */
export interface ClusteredService {
  /** Loads and validates the configuration; returns DOCKYARD_WORKERS (throws ConfigError). */
  workers(): number;
  /** The data directories this service serves: locked by the single process or the primary, never by workers. */
  directories(): ServiceDirectory[];
  /** The primary's one-time work before forking; returns the logger the primary reports with. */
  prepare(): Promise<Logger>;
  /** Starts serving in this process. */
  start(role: ProcessRole): Promise<StartedService>;
}

/** How long workers get to drain after SIGTERM (their own deadline is 10 s) before they are killed. */
const STOP_DEADLINE_MS = 15_000;
/** First restart delay; doubled for every further death in a row of a worker younger than STABLE_MS. */
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 30_000;
const STABLE_MS = 10_000;
/** Environment variable telling a forked worker its slot (1..N); not a setting. */
const SLOT_ENV = 'DOCKYARD_WORKER_SLOT';
const READY = 'dockyard:ready';

interface ReadyMessage {
  tag: typeof READY;
  banner?: string;
  warnings?: string[];
}

function isReady(message: unknown): message is ReadyMessage {
  return typeof message === 'object' && message !== null && (message as ReadyMessage).tag === READY;
}

/** What a started service tells its operator once. */
type Announcement = Pick<StartedService, 'banner' | 'warnings'>;

function announce({ banner, warnings }: Announcement): void {
  for (const warning of warnings ?? []) process.stderr.write(`${warning}\n`);
  if (banner) process.stdout.write(`${banner}\n`);
}

interface Exit {
  code: number | null;
  signal: string | null;
}

function describeExit({ code, signal }: Exit): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

interface Slot {
  index: number;
  worker?: Worker;
  exited?: Promise<Exit>;
  /** Set once the current worker has exited. */
  exit?: Exit;
  startedAt: number;
  /** Deaths in a row of workers younger than STABLE_MS. */
  youngDeaths: number;
  restart?: NodeJS.Timeout;
}

/** The primary's workers: fork, wait until ready, replace the dead, stop all. */
class WorkerPool {
  private readonly slots: Slot[];
  private readonly locks = new ClusterLockTable();
  /** Set once every first worker serves: a worker dying before that fails the start instead. */
  private serving = false;
  private stopping = false;

  constructor(
    count: number,
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ index: i + 1, startedAt: 0, youngDeaths: 0 }));
  }

  /** Forks every worker; resolves with the first one's announcement once all serve, rejects when one dies first. */
  async start(): Promise<Announcement> {
    const started = this.slots.map((slot) => this.fork(slot));
    try {
      const banners = await Promise.all(started);
      this.serving = true;
      return banners[0];
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  /** SIGTERMs every worker and waits until all exited (killing the ones past the deadline). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restart);
    // A worker that died earlier and waits for its restart has nothing left to stop.
    const live = this.slots.filter((slot) => slot.worker && !slot.exit);
    for (const slot of live) slot.worker!.process.kill('SIGTERM');
    const deadline = setTimeout(() => {
      this.logger.warn({ deadlineMs: STOP_DEADLINE_MS }, 'workers did not stop in time, killing them');
      for (const slot of live) slot.worker!.process.kill('SIGKILL');
    }, STOP_DEADLINE_MS);
    const exits = await Promise.all(live.map((slot) => slot.exited!));
    clearTimeout(deadline);
    const failed = exits.filter((exit) => exit.code !== 0 && exit.signal !== 'SIGTERM');
    if (failed.length > 0) throw new Error(`${failed.length} worker(s) did not stop cleanly: ${failed.map(describeExit).join(', ')}`);
    this.logger.info({ workers: live.length }, 'all workers stopped');
  }

  /** Forks the slot's worker; resolves with its banner once it serves, rejects if it exits before. */
  private fork(slot: Slot): Promise<Announcement> {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.exit = undefined;
    slot.startedAt = Date.now();
    this.locks.attach(worker);
    slot.exited = new Promise((resolve) =>
      worker.once('exit', (code: number | null, signal: string | null) => {
        slot.exit = { code, signal };
        resolve(slot.exit);
      }),
    );
    const ready = new Promise<Announcement>((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (!isReady(message)) return;
        worker.off('message', onMessage);
        resolve({ banner: message.banner, warnings: message.warnings });
      };
      worker.on('message', onMessage);
      void slot.exited!.then((exit) => reject(new Error(`worker ${slot.index} exited during start (${describeExit(exit)})`)));
    });
    void slot.exited.then((exit) => this.onExit(slot, worker, exit));
    return ready;
  }

  private onExit(slot: Slot, worker: Worker, exit: Exit): void {
    if (this.stopping || !this.serving || slot.worker !== worker) return;
    const lived = Date.now() - slot.startedAt;
    slot.youngDeaths = lived < STABLE_MS ? slot.youngDeaths + 1 : 0;
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, slot.youngDeaths - 1));
    this.logger.error({ slot: slot.index, pid: worker.process.pid, exit: describeExit(exit), livedMs: lived, restartInMs: delayMs }, 'worker died unexpectedly, restarting it');
    slot.restart = setTimeout(() => {
      if (this.stopping) return;
      this.fork(slot).then(
        () => this.logger.info({ slot: slot.index, pid: slot.worker?.process.pid }, 'worker restarted'),
        (err: unknown) => this.logger.error({ slot: slot.index, err }, 'restarted worker failed to start'),
      );
    }, delayMs);
  }
}

/** In a forked worker: serve, tell the primary, and stop on SIGTERM like a single process. */
async function startWorker(service: ClusteredService): Promise<Started> {
  const started = await service.start({ prepared: true, housekeeping: process.env[SLOT_ENV] === '1' });
  const message: ReadyMessage = { tag: READY, banner: started.banner, warnings: started.warnings };
  process.send?.(message);
  return started;
}

async function startPrimary(service: ClusteredService, workers: number): Promise<Started> {
  const logger = await service.prepare();
  const pool = new WorkerPool(workers, logger);
  const announcement = await pool.start();
  logger.info({ workers }, 'all workers serving');
  announce(announcement);
  return { logger, close: () => pool.stop() };
}

async function startSingle(service: ClusteredService): Promise<Started> {
  const started = await service.start({ prepared: false, housekeeping: true });
  announce(started);
  return started;
}

/**
 * Runs `service` when `moduleUrl` is the entry point (see runEntryPoint): in this process,
 * or as a cluster when it is configured with more than one worker. The service's data
 * directories are locked first (data-lock.ts) and released once it stopped.
 */
export function runService(label: string, moduleUrl: string, service: ClusteredService): void {
  runEntryPoint(label, moduleUrl, async () => {
    if (cluster.isWorker) return startWorker(service);
    const workers = service.workers();
    const unlock = await lockServiceDirectories(service.directories());
    try {
      const started = workers > 1 ? await startPrimary(service, workers) : await startSingle(service);
      return {
        logger: started.logger,
        async close() {
          try {
            await started.close();
          } finally {
            await unlock();
          }
        },
      };
    } catch (err) {
      await unlock();
      throw err;
    }
  });
}
