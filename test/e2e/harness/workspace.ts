/**
 * One e2e file's private world: a temp directory for data, client state and logs, the
 * environment that keeps every client away from machine-wide config (HOME, TMPDIR, auth
 * files), and a LIFO list of clean-ups run in after(). Assertion helpers attach the tail of
 * every service log, so a failing client command shows the server's side too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, run, type RunOptions, type RunResult } from './run.js';

const LOG_TAIL_LINES = 40;

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '(no log file)';
  const all = readFileSync(path, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n') || '(empty)';
}

/** Temp dir + clean-ups + logs + client environment for one test file. */
export class Workspace {
  private readonly cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];
  private readonly logs = new Map<string, string>();
  /** Environment every client command gets (on top of process.env). */
  readonly clientEnv: Record<string, string>;

  private constructor(readonly dir: string) {
    for (const sub of ['home', 'tmp', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
    this.clientEnv = {
      HOME: join(dir, 'home'),
      TMPDIR: join(dir, 'tmp'),
      // containers/image reads and writes credentials here unless --authfile says otherwise
      REGISTRY_AUTH_FILE: join(dir, 'home', 'containers-auth.json'),
      DOCKER_CONFIG: join(dir, 'home', '.docker'),
    };
    // podman refuses an auth file that does not exist, even for anonymous access
    writeFileSync(this.clientEnv.REGISTRY_AUTH_FILE, JSON.stringify({ auths: {} }));
  }

  /**
   * A fresh workspace under the system temp dir, e.g. /tmp/dockyard-e2e-skopeo-1a2b3c4d.
   * Lowercase on purpose: podman names an image pulled from `oci:DIR` after DIR, and image
   * names must be lowercase (mkdtemp's suffix is not).
   */
  static create(label: string): Workspace {
    const dir = join(tmpdir(), `dockyard-e2e-${label}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { mode: 0o700 });
    return new Workspace(dir);
  }

  /** Absolute path inside the workspace. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Creates (recursively) and returns a directory inside the workspace. */
  mkdir(...parts: string[]): string {
    const path = this.path(...parts);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** Path of a new log file for `name`, shown (tail) in every failure message. */
  logFile(name: string): string {
    const path = this.path('logs', `${name}.log`);
    this.logs.set(name, path);
    return path;
  }

  /** Registers a clean-up; clean-ups run last-registered first. */
  defer(name: string, fn: () => Promise<void> | void): void {
    this.cleanups.push({ name, fn });
  }

  /** The last lines of every registered log, for failure messages. */
  logTails(lines = LOG_TAIL_LINES): string {
    return [...this.logs].map(([name, path]) => `--- ${name} log (${path}), last ${lines} lines ---\n${tail(path, lines)}`).join('\n');
  }

  /** Runs a command with the workspace's client environment. */
  run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return run(cmd, args, { ...options, env: { ...this.clientEnv, ...options.env } });
  }

  /** Runs a command that must succeed; the assertion message has its output and the service logs. */
  async ok(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await this.run(cmd, args, options);
    assert.ok(result.code === 0 && !result.timedOut, `command failed:\n${describeRun(result)}\n${this.logTails()}`);
    return result;
  }

  /**
   * Runs a command that must fail with output matching `expected` (checked against
   * stdout + stderr), so a refusal for the wrong reason does not pass.
   */
  async fails(cmd: string, args: readonly string[], expected: RegExp, options: RunOptions = {}): Promise<RunResult> {
    const result = await this.run(cmd, args, options);
    assert.ok(result.code !== 0 && !result.timedOut, `command should have failed:\n${describeRun(result)}\n${this.logTails()}`);
    assert.match(`${result.stdout}\n${result.stderr}`, expected, `unexpected failure output:\n${describeRun(result)}`);
    return result;
  }

  /** Runs every clean-up (errors are collected, not short-circuited), then removes the dir. */
  async dispose(): Promise<void> {
    const errors: string[] = [];
    for (const { name, fn } of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (process.env.DOCKYARD_E2E_KEEP) console.error(`# kept e2e workspace ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    if (errors.length) throw new Error(`clean-up failed: ${errors.join('; ')}`);
  }
}
