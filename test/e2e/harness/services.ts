/**
 * Starts the services under test on free loopback ports, each with its own data dir inside
 * the workspace: the Dockyard registry (or, with DOCKYARD_E2E_REGISTRY=distribution, CNCF
 * distribution 2.8 as a reference, which proves the tests themselves right) and the Dockyard
 * auth service, plus its admin CLI against the same data dir.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
import { httpProbe, httpsProbe, ProcessStartError, startProcess, type ManagedProcess, type ProcessSpec } from './process.js';
import type { RunResult } from './run.js';
import type { Workspace } from './workspace.js';

/** Root of the repository (where services/ lives); services run with it as cwd. */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** How the registry authenticates clients. */
export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; path: string; realm?: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

/** A server certificate and key (PEM files) the registry serves HTTPS with. */
export interface TlsFiles {
  certificate: string;
  key: string;
}

/** A running service reachable on 127.0.0.1. */
export interface RunningService {
  /** `127.0.0.1:PORT`, the form image references use. */
  host: string;
  /** `http://127.0.0.1:PORT` (https when started with TLS). */
  url: string;
  process: ManagedProcess;
}

/** Which registry implementation e2e runs against. */
export type RegistryTarget = 'dockyard' | 'distribution';

/** The registry under test: Dockyard unless DOCKYARD_E2E_REGISTRY=distribution. */
export function registryTarget(): RegistryTarget {
  const target = process.env.DOCKYARD_E2E_REGISTRY || 'dockyard';
  if (target !== 'dockyard' && target !== 'distribution') {
    throw new Error(`DOCKYARD_E2E_REGISTRY must be dockyard or distribution, got ${JSON.stringify(target)}`);
  }
  return target;
}

const ADDRESS_IN_USE = /EADDRINUSE|address already in use/i;

/** Picks a port, starts, and retries with another port when the first was taken meanwhile. */
async function startOnFreePort(ws: Workspace, build: (port: number) => ProcessSpec, scheme = 'http'): Promise<RunningService> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const managed = await startProcess(ws, build(port));
      return { host: `127.0.0.1:${port}`, url: `${scheme}://127.0.0.1:${port}`, process: managed };
    } catch (err) {
      if (attempt >= 3 || !(err instanceof ProcessStartError) || !ADDRESS_IN_USE.test(err.log)) throw err;
    }
  }
}

function nodeService(script: string): Pick<ProcessSpec, 'command' | 'args' | 'cwd'> {
  return { command: process.execPath, args: ['--import', 'tsx', script], cwd: REPO_ROOT };
}

function dockyardRegistryEnv(port: number, dataDir: string, auth: RegistryAuth, tls: TlsFiles | undefined, implicitAuth: boolean): Record<string, string> {
  const env: Record<string, string> = { REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, DOCKYARD_DATA_DIR: dataDir };
  if (!implicitAuth) env.REGISTRY_AUTH = auth.kind;
  if (tls) {
    env.REGISTRY_HTTP_TLS_CERTIFICATE = tls.certificate;
    env.REGISTRY_HTTP_TLS_KEY = tls.key;
  }
  if (auth.kind === 'htpasswd') {
    env.REGISTRY_AUTH_HTPASSWD_PATH = auth.path;
    env.REGISTRY_AUTH_HTPASSWD_REALM = auth.realm ?? 'dockyard-e2e';
  } else if (auth.kind === 'token') {
    env.REGISTRY_AUTH_TOKEN_REALM = auth.realm;
    env.REGISTRY_AUTH_TOKEN_SERVICE = auth.service;
    env.REGISTRY_AUTH_TOKEN_ISSUER = auth.issuer;
    env.REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE = auth.rootCertBundle;
  }
  return env;
}

/** The CNCF distribution config equivalent to Dockyard's environment (RECIPES.md). */
function distributionConfig(port: number, dataDir: string, auth: RegistryAuth, tls: TlsFiles | undefined): Record<string, unknown> {
  const authSection =
    auth.kind === 'htpasswd'
      ? { htpasswd: { realm: auth.realm ?? 'dockyard-e2e', path: auth.path } }
      : auth.kind === 'token'
        ? { token: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: auth.rootCertBundle } }
        : undefined;
  return {
    version: 0.1,
    log: { level: 'info', formatter: 'text' },
    storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: 'dockyard-e2e-not-a-secret', ...(tls ? { tls } : {}) },
    ...(authSection ? { auth: authSection } : {}),
  };
}

/**
 * Starts the registry under test with `auth` (default none), over HTTPS when `tls` is given
 * (readiness is then probed trusting `tls.ca`); `name` separates several per file. With
 * `implicitAuth` Dockyard gets the mode's settings but no REGISTRY_AUTH, as distribution's
 * configuration names a mode only by its section; `env` adds settings (e.g. s3 storage) to
 * a Dockyard registry.
 */
export async function startRegistry(
  ws: Workspace,
  options: { auth?: RegistryAuth; tls?: TlsFiles & { ca: string }; name?: string; implicitAuth?: boolean; env?: Record<string, string> } = {},
): Promise<RunningService> {
  const auth = options.auth ?? { kind: 'none' };
  const name = options.name ?? 'registry';
  const tls = options.tls ? { certificate: options.tls.certificate, key: options.tls.key } : undefined;
  const dataDir = ws.mkdir(`${name}-data`);
  const target = registryTarget();
  const build = (port: number): ProcessSpec => {
    const ready = options.tls ? httpsProbe(`https://127.0.0.1:${port}/v2/`, options.tls.ca) : httpProbe(`http://127.0.0.1:${port}/v2/`);
    if (target === 'dockyard') {
      return {
        name,
        ...nodeService('services/registry/main.ts'),
        env: { ...dockyardRegistryEnv(port, dataDir, auth, tls, options.implicitAuth ?? false), ...options.env },
        ready,
      };
    }
    const configPath = ws.path(`${name}-config.yml`);
    writeFileSync(configPath, stringify(distributionConfig(port, dataDir, auth, tls)));
    return { name, command: 'docker-registry', args: ['serve', configPath], ready };
  };
  return startOnFreePort(ws, build, tls ? 'https' : 'http');
}

/** A running auth service plus its admin CLI. */
export interface AuthService extends RunningService {
  dataDir: string;
  issuer: string;
  service: string;
  adminPassword: string;
  /** Runs `services/auth/cli.ts ARGS` against this service's data; asserts success. */
  cli(args: readonly string[], input?: string): Promise<RunResult>;
  /** Fetches /certs.pem into the workspace and returns the file's path. */
  saveCertBundle(): Promise<string>;
}

/** Starts the Dockyard auth service with a fresh data dir (first admin: `admin`). */
export async function startAuthService(
  ws: Workspace,
  options: { issuer?: string; service?: string; adminPassword?: string; name?: string; env?: Record<string, string> } = {},
): Promise<AuthService> {
  const name = options.name ?? 'auth';
  const dataDir = ws.mkdir(`${name}-data`);
  const issuer = options.issuer ?? 'dockyard-auth';
  const service = options.service ?? 'dockyard';
  const adminPassword = options.adminPassword ?? `admin-${Math.random().toString(36).slice(2)}`;
  const env = { DOCKYARD_DATA_DIR: dataDir, AUTH_TOKEN_ISSUER: issuer, AUTH_TOKEN_SERVICE: service, DOCKYARD_ADMIN_PASSWORD: adminPassword, ...options.env };
  const running = await startOnFreePort(ws, (port) => ({
    name,
    ...nodeService('services/auth/main.ts'),
    env: { ...env, AUTH_HTTP_ADDR: `127.0.0.1:${port}` },
    ready: httpProbe(`http://127.0.0.1:${port}/healthz`, (status) => status === 200),
  }));
  return {
    ...running,
    dataDir,
    issuer,
    service,
    adminPassword,
    cli: (args, input) => ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', ...args], { cwd: REPO_ROOT, env, input }),
    saveCertBundle: async () => {
      const response = await fetch(`${running.url}/certs.pem`);
      const pem = await response.text();
      if (response.status !== 200 || !pem.includes('BEGIN CERTIFICATE')) {
        throw new Error(`GET /certs.pem answered ${response.status}: ${pem.slice(0, 200)}`);
      }
      const path = ws.path(`${name}-certs.pem`);
      writeFileSync(path, pem);
      return path;
    },
  };
}
