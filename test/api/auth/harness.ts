/**
 * The auth service on a real port for API tests: a temp data dir (SQLite, keys), the
 * service started through startAuthService (as `npm run auth` does), helpers for the
 * token endpoint and admin API, and a second database handle for arranging state the API
 * cannot (an expired robot, an idle refresh token).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { pino } from 'pino';
import type { AuthServiceConfig } from '../../../shared/config/index.js';
import { openDatabase, type Knex } from '../../../shared/db/index.js';
import { startAuthService, type RunningAuthService } from '../../../services/auth/main.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const SERVICE = 'test-registry';
export const ISSUER = 'test-auth';
export const TTL_SECONDS = 120;

/** A running auth service and its surroundings. */
export interface AuthHarness {
  url: string;
  config: AuthServiceConfig;
  dataDir: string;
  /** A separate handle on the service's database. */
  db: Knex;
  /** Everything the service logged (JSON lines), to check no secret leaked. */
  logs(): string;
  close(): Promise<void>;
}

/** A config for a temp data dir: SQLite, bcrypt cost 4, port 0. */
export function testConfig(dataDir: string, overrides: Partial<AuthServiceConfig> = {}): AuthServiceConfig {
  return {
    http: { host: '127.0.0.1', port: 0 },
    dataDir,
    database: { client: 'sqlite', filename: join(dataDir, 'auth', 'auth.sqlite') },
    token: { issuer: ISSUER, service: SERVICE, ttlSeconds: TTL_SECONDS },
    refreshTokens: { idleSeconds: 3600 },
    keysDir: join(dataDir, 'auth', 'keys'),
    bcryptCost: 4,
    ...overrides,
  };
}

/** Starts the service with admin `admin` / ADMIN_PASSWORD; `env` adds AUTH_LOGIN_* etc., `config` overrides parts of the config. */
export async function startHarness(options: { env?: Record<string, string>; dataDir?: string; config?: Partial<AuthServiceConfig> } = {}): Promise<AuthHarness> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'dockyard-auth-api-'));
  const config = testConfig(dataDir, options.config);
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logText += chunk.toString('utf8');
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  let running: RunningAuthService;
  try {
    running = await startAuthService(config, {
      logger,
      env: { DOCKYARD_ADMIN_PASSWORD: ADMIN_PASSWORD, ...options.env },
      announce: () => undefined,
    });
  } catch (err) {
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const db = openDatabase(config.database as { client: 'sqlite'; filename: string });
  return {
    url: running.url,
    config,
    dataDir,
    db,
    logs: () => logText,
    async close() {
      await db.destroy();
      await running.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An HTTP exchange's parts tests look at. */
export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // Not JSON (PEM, empty): tests read `text`.
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** `Authorization: Basic` for user:password. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** GET /token with query pairs (repeatable) and an optional Authorization header. */
export async function getToken(h: AuthHarness, query: Array<[string, string]>, authorization?: string): Promise<Reply> {
  const params = new URLSearchParams(query);
  const headers: Record<string, string> = authorization ? { authorization } : {};
  return reply(await fetch(`${h.url}/token?${params}`, { headers }));
}

/** POST /token with a form body and NO Authorization header (as docker sends it). */
export async function postToken(h: AuthHarness, form: Record<string, string>): Promise<Reply> {
  return reply(
    await fetch(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

/**
 * A request to the admin API as `admin` (or with the given Authorization header). Every
 * request but GET declares a JSON body, as the admin API requires (even an empty one).
 */
export async function adminApi(h: AuthHarness, method: string, path: string, body?: unknown, authorization = basic('admin', ADMIN_PASSWORD)): Promise<Reply> {
  const headers: Record<string, string> = { authorization };
  if (body !== undefined || method !== 'GET') headers['content-type'] = 'application/json';
  return reply(await fetch(`${h.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
}

/** Creates a user (and optional grants) through the admin API; throws unless it worked. */
export async function createUser(h: AuthHarness, name: string, password: string, grants: Array<[string, string]> = []): Promise<void> {
  const created = await adminApi(h, 'POST', '/users', { name, password });
  if (created.status !== 201) throw new Error(`creating ${name}: ${created.status} ${created.text}`);
  for (const [pattern, actions] of grants) {
    const granted = await adminApi(h, 'POST', '/grants', { subject: `user:${name}`, pattern, actions });
    if (granted.status !== 201) throw new Error(`granting ${pattern} to ${name}: ${granted.status} ${granted.text}`);
  }
}

/** A token's header and claims, after checking its signature against the service's JWKS. */
export async function verifiedClaims(h: AuthHarness, token: string): Promise<{ header: ProtectedHeaderParameters; payload: JWTPayload & { access?: unknown } }> {
  const jwks = (await (await fetch(`${h.url}/.well-known/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0];
  await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: SERVICE, algorithms: ['ES256'] });
  return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
}

/** The access claim of a token (unverified; use verifiedClaims for signature checks). */
export function accessOf(token: string): unknown {
  return decodeJwt(token).access;
}

/** How an admin CLI run ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run admin -- ARGS` on the data directory `dataDir`, with `input` on stdin: through
 * `npx tsx` exactly as documented, or `node --import tsx`, which skips npx's start-up cost.
 */
export function runAdminCli(dataDir: string, args: string[], options: { input?: string; via?: 'npx' | 'node'; env?: Record<string, string> } = {}): Promise<CliResult> {
  const [command, prefix] = options.via === 'npx' ? ['npx', ['tsx']] : [process.execPath, ['--import', 'tsx']];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, 'services/auth/cli.ts', ...args], {
      cwd: join(import.meta.dirname, '..', '..', '..'),
      env: { ...process.env, DOCKYARD_DATA_DIR: dataDir, DOCKYARD_CONFIG: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
