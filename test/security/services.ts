/**
 * The services as `npm start` wires them, started in this process on 127.0.0.1:0: the
 * registry through startRegistryService and the auth service through startAuthService,
 * each on a chosen database. The auth service comes back as an AuthHarness, so the API
 * test helpers (getToken, postToken, adminApi, createUser) work against it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ListenConfig, RegistryAuthConfig, RegistryConfig } from '../../shared/config/index.js';
import { openDatabase } from '../../shared/db/index.js';
import type { Logger } from '../../shared/observability/logger.js';
import { startAuthService } from '../../services/auth/main.js';
import { startRegistryService, type StartRegistryOptions } from '../../services/registry/main.js';
import { ADMIN_PASSWORD, ISSUER, SERVICE, testConfig, type AuthHarness } from '../api/auth/harness.js';
import { sqliteDatabase, type TestDatabase } from './databases.js';

/** A debug-level logger whose JSON lines are kept in memory. */
function captureLogs(): { logger: Logger; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => text };
}

/** A running registry. */
export interface RegistryUnderTest {
  url: string;
  server: Server;
  /** Everything the registry logged (JSON lines, debug level), to check no secret leaked. */
  logs(): string;
  close(): Promise<void>;
}

/** How to start the registry; defaults: SQLite, auth none, 1000 per page, the service's timeouts. Blobs live in memory. */
export interface RegistryOptions {
  database?: (dir: string) => TestDatabase;
  auth?: RegistryAuthConfig;
  pageMaxEntries?: number;
  timeouts?: StartRegistryOptions['timeouts'];
  /** Trusted reverse proxies and their header. */
  proxies?: Pick<ListenConfig, 'trustedProxies' | 'proxyHeader'>;
}

/** Starts the registry in this process; `close()` stops it and removes its data. */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-security-registry-'));
  const database = (options.database ?? ((d) => sqliteDatabase(d, 'registry')))(dir);
  const config: RegistryConfig = {
    http: { host: '127.0.0.1', port: 0, ...options.proxies },
    dataDir: dir,
    storage: { driver: 'memory' },
    database: database.config,
    auth: options.auth ?? { kind: 'none' },
    readOnly: false,
    uploads: { purgeAfterSeconds: 3600 },
    limits: { manifestMaxBytes: 4 * 1024 * 1024, pageMaxEntries: options.pageMaxEntries ?? 1000 },
  };
  const logs = captureLogs();
  try {
    const running = await startRegistryService(config, { logger: logs.logger, timeouts: options.timeouts });
    return {
      url: running.url,
      server: running.server,
      logs: logs.text,
      async close() {
        await running.close();
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** How to start the auth service; defaults: SQLite, bcrypt cost 4, default throttle. */
export interface AuthOptions {
  database?: (dir: string) => TestDatabase;
  bcryptCost?: number;
  /** AUTH_LOGIN_* and the like. */
  env?: Record<string, string>;
  /** Trusted reverse proxies and their header. */
  proxies?: Pick<ListenConfig, 'trustedProxies' | 'proxyHeader'>;
}

/** Starts the auth service (admin `admin` / ADMIN_PASSWORD) with its logs captured. */
export async function startAuth(options: AuthOptions = {}): Promise<AuthHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-security-auth-'));
  const database = (options.database ?? ((d) => sqliteDatabase(d, 'auth')))(dir);
  const config = testConfig(dir, {
    database: database.config,
    bcryptCost: options.bcryptCost ?? 4,
    http: { host: '127.0.0.1', port: 0, ...options.proxies },
  });
  const logs = captureLogs();
  try {
    const running = await startAuthService(config, {
      logger: logs.logger,
      env: { DOCKYARD_ADMIN_PASSWORD: ADMIN_PASSWORD, ...options.env },
      announce: () => undefined,
    });
    const db = openDatabase(database.config);
    return {
      url: running.url,
      config,
      dataDir: dir,
      db,
      logs: logs.text,
      async close() {
        await db.destroy();
        await running.close();
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The auth service plus a registry that trusts its certificates, as a token deployment runs. */
export interface TokenStack {
  auth: AuthHarness;
  registry: RegistryUnderTest;
  close(): Promise<void>;
}

/** Starts the auth service, saves its /certs.pem, and starts a token-mode registry on it. */
export async function startTokenStack(options: { auth?: AuthOptions; registry?: Omit<RegistryOptions, 'auth'> } = {}): Promise<TokenStack> {
  const auth = await startAuth(options.auth);
  try {
    const bundle = join(auth.dataDir, 'trusted-certs.pem');
    const pem = await (await fetch(`${auth.url}/certs.pem`)).text();
    writeFileSync(bundle, pem);
    const registry = await startRegistry({
      ...options.registry,
      auth: { kind: 'token', realm: `${auth.url}/token`, service: SERVICE, issuer: ISSUER, rootCertBundle: bundle },
    });
    return {
      auth,
      registry,
      async close() {
        await registry.close();
        await auth.close();
      },
    };
  } catch (err) {
    await auth.close();
    throw err;
  }
}
