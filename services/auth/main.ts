/**
 * The auth service process: configuration (YAML file and environment), database and
 * migrations, signing keys (created on first start), the first admin when there are no
 * users, an HTTP(S) listener, hourly housekeeping and a graceful stop on SIGTERM/SIGINT.
 * `npm run auth` runs this file (as a cluster with DOCKYARD_WORKERS > 1, see
 * shared/process/cluster.ts); the combined launcher reuses `prepareAuthService`/`startAuthService`.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { runService } from '../../shared/process/cluster.js';
import { keyFiles, loosePermissionWarnings, sqliteFiles } from '../../shared/process/private-files.js';
import { preflightAuth } from '../../shared/config/preflight.js';
import { ConfigError, configFileFrom, loadAuthConfig, type AuthServiceConfig, type Env } from '../../shared/config/index.js';
import { migrateLatest, openDatabase, type Knex } from '../../shared/db/index.js';
import { isDockyardError } from '../../shared/http/errors.js';
import type { SigningKeys } from '../../shared/crypto/keys.js';
import { createLogger, type Logger } from '../../shared/observability/logger.js';
import { createMetricsRegistry, type Registry } from '../../shared/observability/metrics.js';
import { serve } from '../../shared/http/serve.js';
import { createServer, loadTlsOptions } from '../../shared/http/tls.js';
import { createAuthApp } from './app.js';
import { openSigningKeys } from './keys/open.js';
import { TokenIssuer } from './issue.js';
import { AdminOperations } from './operations/index.js';
import { RefreshTokenStore } from './store/refresh-tokens.js';
import { throttlePolicyFromEnv } from './throttle.js';

const SHUTDOWN_DEADLINE_MS = 10_000;
const HOUSEKEEPING_INTERVAL_MS = 60 * 60_000;
const DEFAULT_ADMIN_NAME = 'admin';
/**
 * ES256 signing is the largest cost of a token request: an identical token (same subject,
 * audience and granted access) signed within this window is handed out again (capped at a
 * tenth of the token lifetime by TokenIssuer).
 */
const TOKEN_REUSE_SECONDS = 30;
/** A key rotation by the CLI is picked up within this time, without a stat per token. */
const KEY_CHECK_INTERVAL_MS = 1000;

/** Options for startAuthService. */
export interface StartAuthOptions {
  logger?: Logger;
  /** Source of DOCKYARD_ADMIN_USER/PASSWORD and AUTH_LOGIN_* when `config` was built by hand (default process.env). */
  env?: Env;
  /** Where the one-time line with a generated admin password goes (default stdout). */
  announce?: (line: string) => void;
  /** Metrics registry to record into and serve at /metrics (default: a new one for this service). */
  metrics?: Registry;
  /** Migrations, keys and the first admin are done (a cluster primary did them): only open the database. */
  prepared?: boolean;
  /** Run the hourly purge of expired refresh tokens here (default true; one cluster worker does). */
  housekeeping?: boolean;
}

/** A started auth service. */
export interface RunningAuthService {
  server: Server;
  url: string;
  /** Set only when this start created the first admin with a generated password. */
  adminPassword?: string;
  /** The signing keys it uses (the combined launcher's registry trusts them directly). */
  keys: SigningKeys;
  /** Stops accepting, lets in-flight requests finish (up to 10 s), closes the database. */
  close(): Promise<void>;
}

/**
 * The first admin's name and chosen password: from the loaded configuration, else (for a
 * configuration built by hand) from DOCKYARD_ADMIN_USER / DOCKYARD_ADMIN_PASSWORD in `env`.
 */
function firstAdmin(config: AuthServiceConfig, env: Env): { user: string; password?: string } {
  return config.admin ?? { user: env.DOCKYARD_ADMIN_USER || DEFAULT_ADMIN_NAME, password: env.DOCKYARD_ADMIN_PASSWORD || undefined };
}

/** Creates the first admin when the users table is empty; returns the generated password, if any. */
async function bootstrapAdmin(
  ops: AdminOperations,
  admin: { user: string; password?: string },
  logger: Logger,
  announce: (line: string) => void,
): Promise<string | undefined> {
  const name = admin.user;
  const chosen = admin.password;
  const password = chosen || randomBytes(18).toString('base64url');
  let created: boolean;
  try {
    created = await ops.users.createFirstAdmin(name, password);
  } catch (err) {
    if (isDockyardError(err) && err.code === 'REQUEST_INVALID') {
      throw new ConfigError(chosen ? 'DOCKYARD_ADMIN_PASSWORD / DOCKYARD_ADMIN_USER' : 'DOCKYARD_ADMIN_USER', 'a valid first admin', undefined, err.message);
    }
    throw err;
  }
  if (!created) {
    // Users exist: the setting only names the FIRST admin's password. Say so, or an operator
    // who changed it expects a new password that never took effect.
    if (chosen) logger.warn({ user: name }, 'DOCKYARD_ADMIN_PASSWORD ignored: users exist already, so no first admin was created; change a password with: npx dockyard users passwd NAME --password-stdin');
    return undefined;
  }
  if (chosen) {
    logger.info({ user: name }, 'created the first admin user with the configured password (DOCKYARD_ADMIN_PASSWORD)');
    return undefined;
  }
  // Printed once, to stdout only: the logger never sees it.
  announce(`Dockyard auth: created the first admin user "${name}" with password: ${password}  (shown once; change it with: npx dockyard users passwd ${name} --password-stdin)`);
  return password;
}

/** The one-time work on `db`: migrations, signing keys, the first admin (with its generated password, if any). */
async function initialise(
  db: Knex,
  config: AuthServiceConfig,
  options: StartAuthOptions,
  logger: Logger,
): Promise<{ keys: SigningKeys; adminPassword?: string }> {
  await migrateLatest(db, 'auth');
  const keys = await openSigningKeys(config, db, logger);
  const ops = new AdminOperations({ db, bcryptCost: config.bcryptCost, keys });
  const announce = options.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  const adminPassword = await bootstrapAdmin(ops, firstAdmin(config, options.env ?? process.env), logger, announce);
  return { keys, adminPassword };
}

/**
 * The one-time work of a cluster primary, before any worker starts: check the TLS files,
 * migrate, create the keys and the first admin (its generated password printed once, here).
 */
export async function prepareAuthService(config: AuthServiceConfig, options: StartAuthOptions = {}): Promise<string | undefined> {
  if (config.http.tls) loadTlsOptions(config.http.tls, 'auth.http.tls');
  const logger = options.logger ?? createLogger({ name: 'auth', level: config.log?.level });
  const db = openDatabase(config.database);
  try {
    return (await initialise(db, config, options, logger)).adminPassword;
  } finally {
    await db.destroy();
  }
}

/** Wires and starts the auth service for `config`. */
export async function startAuthService(config: AuthServiceConfig, options: StartAuthOptions = {}): Promise<RunningAuthService> {
  const logger = options.logger ?? createLogger({ name: 'auth', level: config.log?.level });
  const env = options.env ?? process.env;
  const db = openDatabase(config.database);
  try {
    const { keys, adminPassword } = options.prepared ? { keys: await openSigningKeys(config, db) } : await initialise(db, config, options, logger);
    const issuer = new TokenIssuer({
      keys,
      issuer: config.token.issuer,
      ttlSeconds: config.token.ttlSeconds,
      reuseSeconds: TOKEN_REUSE_SECONDS,
      keyCheckIntervalMs: KEY_CHECK_INTERVAL_MS,
    });
    const throttle = config.login ?? throttlePolicyFromEnv(env);
    const app = createAuthApp(config, { db, keys, issuer, logger, throttle, metrics: options.metrics ?? createMetricsRegistry('auth') });
    const server = createServer(app.callback(), config.http, { tlsKeyName: 'auth.http.tls' }) as Server;
    const refreshTokens = new RefreshTokenStore(db);
    const housekeeping =
      options.housekeeping === false
        ? undefined
        : setInterval(() => {
            refreshTokens.purge(Date.now() - config.refreshTokens.idleSeconds * 1000).then(
              (purged) => purged > 0 && logger.info({ purged }, 'purged expired refresh tokens'),
              (err: unknown) => logger.error({ err }, 'refresh token purge failed'),
            );
          }, HOUSEKEEPING_INTERVAL_MS);
    housekeeping?.unref();

    const { url, close } = await serve(server, config.http, {
      logger,
      deadlineMs: SHUTDOWN_DEADLINE_MS,
      onClose: async () => {
        clearInterval(housekeeping);
        await db.destroy();
      },
    });
    logger.info({ url, tokenService: config.token.service, issuer: config.token.issuer, kid: keys.current().kid }, 'listening');
    return { server, url, adminPassword, keys, close };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

/** What must stay the owner's alone: the data directory, the auth part of it, its database, the signing keys. */
export function authPrivatePaths(config: AuthServiceConfig): string[] {
  const keyEncryptionKey = config.keyStore?.kind === 'database' ? [config.keyStore.encryptionKeyFile] : [];
  return [config.dataDir, join(config.dataDir, 'auth'), ...sqliteFiles(config.database), config.keysDir, ...keyFiles(config.keysDir), ...keyEncryptionKey];
}

let loaded: AuthServiceConfig | undefined;
const configured = (): AuthServiceConfig => (loaded ??= loadAuthConfig({ file: configFileFrom(process.argv.slice(2)) }));
const loggerFor = (config: AuthServiceConfig): Logger => createLogger({ name: 'auth', level: config.log?.level });

runService('auth service', import.meta.url, {
  workers: () => configured().workers ?? 1,
  directories: () => [{ service: 'auth', dataDir: configured().dataDir }],
  async prepare() {
    const logger = loggerFor(configured());
    await preflightAuth(configured());
    await prepareAuthService(configured(), { logger });
    return logger;
  },
  async start({ prepared, housekeeping }) {
    const logger = loggerFor(configured());
    if (!prepared) await preflightAuth(configured());
    const running = await startAuthService(configured(), { logger, prepared, housekeeping });
    return { logger, close: running.close, warnings: loosePermissionWarnings(authPrivatePaths(configured())) };
  },
});
