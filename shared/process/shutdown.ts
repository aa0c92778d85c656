/**
 * Graceful stop for a service process: on SIGTERM/SIGINT (or when triggered) stop
 * accepting connections, let in-flight requests finish until a deadline, then cut the
 * remaining connections, run the service's close hook (databases) and exit.
 */
import type { Server } from 'node:http';
import type { Logger } from '../observability/logger.js';

/** What shutdown needs of an http or https server. */
export type ClosableServer = Pick<Server, 'close' | 'closeAllConnections' | 'closeIdleConnections' | 'listening'>;

/** Options for gracefulShutdown. */
export interface ShutdownOptions {
  /** How long in-flight requests may take to finish before their connections are destroyed. */
  deadlineMs: number;
  /** Runs after every server closed: close databases, flush. */
  onClose: () => Promise<void>;
  logger: Logger;
  /** Signals that trigger the shutdown (default SIGTERM and SIGINT; [] in tests). */
  signals?: readonly NodeJS.Signals[];
  /** Ends the process (default process.exit); tests pass a recorder. */
  exit?: (code: number) => void;
}

// Keep-alive connections that finish their last request after close() began must be
// closed too; Node only closes the ones idle at the moment close() is called.
const IDLE_SWEEP_MS = 100;

function closeServer(server: ClosableServer, deadlineMs: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => {
      logger.warn({ deadlineMs }, 'shutdown deadline reached, closing remaining connections');
      server.closeAllConnections();
    }, deadlineMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Installs the signal handlers and returns a function that runs the same shutdown
 * programmatically. Every call (and every signal) after the first returns the first
 * call's promise.
 */
export function gracefulShutdown(
  servers: ClosableServer | readonly ClosableServer[],
  options: ShutdownOptions,
): (reason?: string) => Promise<void> {
  const list: readonly ClosableServer[] = Array.isArray(servers) ? servers : [servers as ClosableServer];
  const signals = options.signals ?? (['SIGTERM', 'SIGINT'] as const);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const { logger } = options;
  let running: Promise<void> | undefined;

  // Handlers stay installed until the end: Ctrl-C reaches npm, tsx and node alike and
  // the wrappers relay it too, so repeats must not fall through to Node's default exit.
  const onSignal = (signal: NodeJS.Signals): void => {
    void shutdown(signal);
  };

  function shutdown(reason = 'requested'): Promise<void> {
    running ??= (async () => {
      logger.info({ reason, deadlineMs: options.deadlineMs }, 'shutting down');
      let code = 0;
      try {
        await Promise.all(list.map((server) => closeServer(server, options.deadlineMs, logger)));
        await options.onClose();
        logger.info('shutdown complete');
      } catch (err) {
        code = 1;
        logger.error({ err }, 'shutdown failed');
      }
      logger.flush?.();
      for (const signal of signals) process.off(signal, onSignal);
      exit(code);
    })();
    return running;
  }

  for (const signal of signals) process.on(signal, onSignal);
  return shutdown;
}
