/**
 * Starts the web UI: `npm start` runs it next to the registry and the auth service
 * (services/main.ts); `npm run web` runs it alone against a registry elsewhere
 * (WEB_REGISTRY_URL). Its only data are sessions: its database is migrated and its session
 * key file created (when absent) before it listens; expired sessions are swept in bounded
 * steps while it runs.
 */
import type { Server } from 'node:http';
import { configFileFrom } from '../../shared/config/index.js';
import { loadWebConfig, type WebConfig } from '../../shared/config/web.js';
import { serve } from '../../shared/http/serve.js';
import { createServer } from '../../shared/http/tls.js';
import { createLogger, type Logger } from '../../shared/observability/logger.js';
import { runEntryPoint } from '../../shared/process/entry-point.js';
import { migrateLatest, openDatabase } from '../../shared/db/index.js';
import { SETTINGS } from '../../shared/config/settings.js';
import { createApp } from './app.js';
import { SessionSealer } from './session-key.js';
import { SessionStore } from './session.js';
import { dirname } from 'node:path';
import { loosePermissionWarnings, sqliteFiles } from '../../shared/process/private-files.js';

const SHUTDOWN_DEADLINE_MS = 10_000;
/** How often expired sessions are swept, and at most how many statements (of 500 rows) one sweep runs. */
const SWEEP_EVERY_MS = 5 * 60_000;
const SWEEP_STEPS = 20;

/** Sweeps expired sessions now and then; returns the function that stops it (waiting for a sweep under way). */
function sweepPeriodically(sessions: SessionStore, logger: Logger): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const sweep = async (): Promise<void> => {
    try {
      let deleted = 0;
      for (let step = 0; step < SWEEP_STEPS; step++) {
        const n = await sessions.sweep();
        deleted += n;
        if (n === 0) break;
      }
      if (deleted > 0) logger.debug({ deleted }, 'expired web sessions swept');
    } catch (err) {
      logger.warn({ err }, 'sweeping expired web sessions failed');
    }
  };
  running = sweep();
  const timer = setInterval(() => {
    running = running.then(sweep);
  }, SWEEP_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export interface RunningWebService {
  url: string;
  close(): Promise<void>;
}

/** The web service's files that must stay its owner's: the session key file and an SQLite session database. */
export function webPrivatePaths(config: WebConfig): string[] {
  return [dirname(config.sessionKeyFile), config.sessionKeyFile, ...sqliteFiles(config.database)];
}

export async function startWebService(config: WebConfig, options: { logger: Logger }): Promise<RunningWebService> {
  const sealer = await SessionSealer.fromFile(config.sessionKeyFile, SETTINGS.web.sessionKeyFile.env);
  const db = openDatabase(config.database);
  let stopSweeping: (() => Promise<void>) | undefined;
  try {
    await migrateLatest(db, 'web');
    const sessions = new SessionStore(db, sealer);
    stopSweeping = sweepPeriodically(sessions, options.logger);
    const app = createApp(config, { logger: options.logger, sessions });
    const server = createServer(app.callback(), config.http, { tlsKeyName: 'web.http.tls', headersTimeoutMs: 30_000 }) as Server;
    const onClose = async () => {
      await stopSweeping?.();
      await db.destroy();
    };
    const { url, close } = await serve(server, config.http, { logger: options.logger, deadlineMs: SHUTDOWN_DEADLINE_MS, onClose });
    options.logger.info({ url, registry: config.registryUrl }, 'listening');
    return { url, close };
  } catch (err) {
    await stopSweeping?.();
    await db.destroy();
    throw err;
  }
}

runEntryPoint('web', import.meta.url, async () => {
  const config = loadWebConfig({ file: configFileFrom(process.argv.slice(2)) });
  const logger = createLogger({ name: 'web' });
  const running = await startWebService(config, { logger });
  process.stdout.write(`Dockyard web UI at ${running.url} (registry ${config.registryUrl})\n`);
  // Like the other services' start (shared/process/cluster.ts): a plain line on stderr.
  for (const warning of loosePermissionWarnings(webPrivatePaths(config))) process.stderr.write(`${warning}\n`);
  return { logger, close: running.close };
});
