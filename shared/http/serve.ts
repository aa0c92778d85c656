/**
 * Listening and stopping, the same for both services: bind the server, report the URL it
 * answers at, and hand back one idempotent close() that drains in-flight requests up to a
 * deadline before running the service's own cleanup (timers, databases).
 */
import type { Server } from 'node:http';
import type { ListenConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { gracefulShutdown } from '../process/shutdown.js';
import { listen } from './tls.js';

/** A listening service. */
export interface Serving {
  url: string;
  /** Stops accepting, lets in-flight requests finish up to the deadline, then runs onClose. */
  close(): Promise<void>;
}

/** Starts `server` on `at` (port 0 picks a free port). */
export async function serve(
  server: Server,
  at: ListenConfig,
  options: { logger: Logger; deadlineMs: number; onClose: () => Promise<void> },
): Promise<Serving> {
  const address = await listen(server, at);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${at.tls ? 'https' : 'http'}://${host}:${address.port}`;
  const close = gracefulShutdown(server, {
    deadlineMs: options.deadlineMs,
    logger: options.logger,
    signals: [],
    exit: () => undefined,
    onClose: options.onClose,
  });
  return { url, close: () => close('close') };
}
