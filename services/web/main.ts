/**
 * Starts the web UI: `npm start` runs it next to the registry and the auth service
 * (services/main.ts); `npm run web` runs it alone against a registry elsewhere
 * (WEB_REGISTRY_URL). Nothing to prepare: it has no database and no files.
 */
import type { Server } from 'node:http';
import { configFileFrom } from '../../shared/config/index.js';
import { loadWebConfig, type WebConfig } from '../../shared/config/web.js';
import { serve } from '../../shared/http/serve.js';
import { createServer } from '../../shared/http/tls.js';
import { createLogger, type Logger } from '../../shared/observability/logger.js';
import { runEntryPoint } from '../../shared/process/entry-point.js';
import { createApp } from './app.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

export interface RunningWebService {
  url: string;
  close(): Promise<void>;
}

export async function startWebService(config: WebConfig, options: { logger: Logger }): Promise<RunningWebService> {
  const app = createApp(config, { logger: options.logger });
  const server = createServer(app.callback(), config.http, { tlsKeyName: 'web.http.tls', headersTimeoutMs: 30_000 }) as Server;
  const { url, close } = await serve(server, config.http, { logger: options.logger, deadlineMs: SHUTDOWN_DEADLINE_MS, onClose: async () => undefined });
  options.logger.info({ url, registry: config.registryUrl }, 'listening');
  return { url, close };
}

runEntryPoint('web', import.meta.url, async () => {
  const config = loadWebConfig({ file: configFileFrom(process.argv.slice(2)) });
  const logger = createLogger({ name: 'web' });
  const running = await startWebService(config, { logger });
  process.stdout.write(`Dockyard web UI at ${running.url} (registry ${config.registryUrl})\n`);
  return { logger, close: running.close };
});
