/**
 * The services under test as real processes (`node --import tsx services/…/main.ts`) that a
 * suite can SIGKILL and start again on the same data, built on the e2e harness
 * (startProcess, freePort, Workspace). Each start gets a fresh port; data stays.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../e2e/harness/ports.js';
import { httpProbe, ProcessStartError, startProcess, type ManagedProcess } from '../../e2e/harness/process.js';
import { REPO_ROOT } from '../../e2e/harness/services.js';
import type { Workspace } from '../../e2e/harness/workspace.js';

/** A service process that can be killed and restarted on the same data. */
export class KillableService {
  private current: ManagedProcess | undefined;
  private currentUrl = '';
  private starts = 0;

  /**
   * `script` is the entry point under services/, `env(port)` its environment for a start on
   * `port`, `readyPath` the path that answers 200 once it serves.
   */
  constructor(
    private readonly ws: Workspace,
    readonly name: string,
    private readonly script: string,
    private readonly env: (port: number) => Record<string, string>,
    private readonly readyPath: string,
  ) {}

  /** `http://127.0.0.1:PORT` of the running process. */
  get url(): string {
    if (!this.current?.running()) throw new Error(`${this.name} is not running`);
    return this.currentUrl;
  }

  /** Pid of the running process (the node process itself: no wrapper in between). */
  get pid(): number {
    if (!this.current?.running()) throw new Error(`${this.name} is not running`);
    return this.current.pid;
  }

  /** True while the process lives. */
  running(): boolean {
    return this.current?.running() ?? false;
  }

  /** Starts the service on a free port and waits until it answers. */
  async start(): Promise<string> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      this.starts += 1;
      try {
        this.current = await startProcess(this.ws, {
          // One log per start, so a failure shows what the restart after a kill did.
          name: `${this.name}-${this.starts}`,
          command: process.execPath,
          args: ['--import', 'tsx', this.script],
          cwd: REPO_ROOT,
          env: this.env(port),
          ready: httpProbe(`http://127.0.0.1:${port}${this.readyPath}`, (status) => status === 200),
        });
        this.currentUrl = `http://127.0.0.1:${port}`;
        return this.currentUrl;
      } catch (err) {
        if (attempt >= 3 || !(err instanceof ProcessStartError) || !/EADDRINUSE/.test(err.log)) throw err;
      }
    }
  }

  /** SIGKILLs the process group (no shutdown hook runs) and waits until it is gone. */
  async kill(): Promise<void> {
    const handle = this.current;
    if (!handle?.running()) return;
    try {
      process.kill(-handle.pid, 'SIGKILL');
    } catch {
      // exited on its own meanwhile
    }
    while (handle.running()) await sleep(10);
  }

  /** Graceful stop (SIGTERM, then SIGKILL after the harness's grace period). */
  async stop(): Promise<void> {
    await this.current?.stop();
  }

  /** Resident set size of the running process in bytes, from /proc/<pid>/status. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }
}

/** The Dockyard registry (auth none) on `dataDir`, with extra environment (storage root, database URL). */
export function registryService(ws: Workspace, dataDir: string, extraEnv: Record<string, string> = {}, name = 'registry'): KillableService {
  return new KillableService(
    ws,
    name,
    'services/registry/main.ts',
    (port) => ({ REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, REGISTRY_AUTH: 'none', DOCKYARD_DATA_DIR: dataDir, ...extraEnv }),
    '/v2/',
  );
}

/** The Dockyard auth service on `dataDir` with a known first admin password. */
export function authService(ws: Workspace, dataDir: string, adminPassword: string, extraEnv: Record<string, string> = {}): KillableService {
  return new KillableService(
    ws,
    'auth',
    'services/auth/main.ts',
    (port) => ({ AUTH_HTTP_ADDR: `127.0.0.1:${port}`, DOCKYARD_DATA_DIR: dataDir, DOCKYARD_ADMIN_PASSWORD: adminPassword, ...extraEnv }),
    '/healthz',
  );
}
