/**
 * Command builders for the containers/image family (skopeo, podman, buildah). podman and
 * buildah get private --root/--runroot (vfs, no cgroups, file events) so concurrent test
 * files never share image storage; all three get the workspace's auth file by default.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, RunResult } from './run.js';
import type { Workspace } from './workspace.js';

/**
 * What skopeo, podman and docker print when a registry or token server refuses access:
 * `unauthorized: …` / `denied: …` from the error body, or their own wording for a 401.
 */
export const ACCESS_REFUSED = /unauthorized|denied|authentication required|invalid username\/password|invalid_grant/i;

/** A CLI bound to a workspace and a fixed set of global flags. */
export class Tool {
  constructor(
    private readonly ws: Workspace,
    readonly cmd: string,
    private readonly globalArgs: readonly string[] = [],
  ) {}

  /** Full argv for `args` (global flags first). */
  argv(args: readonly string[]): string[] {
    return [...this.globalArgs, ...args];
  }

  /** Runs; never throws on a non-zero exit. */
  run(args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.ws.run(this.cmd, this.argv(args), options);
  }

  /** Runs and asserts success (message: the command's output and the service logs). */
  ok(args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.ws.ok(this.cmd, this.argv(args), options);
  }

  /** Runs and asserts failure with output matching `expected`. */
  fails(args: readonly string[], expected: RegExp, options?: RunOptions): Promise<RunResult> {
    return this.ws.fails(this.cmd, this.argv(args), expected, options);
  }
}

/**
 * A fresh, empty containers auth file in the workspace. podman refuses an --authfile that
 * does not exist, and a separate file per identity keeps logins from leaking between cases.
 */
export function authFile(ws: Workspace, name: string): string {
  const path = ws.path('home', `auth-${name}.json`);
  writeFileSync(path, JSON.stringify({ auths: {} }));
  return path;
}

/** skopeo with the workspace environment. */
export function skopeo(ws: Workspace): Tool {
  return new Tool(ws, 'skopeo');
}

/**
 * podman with private storage under `ws/podman-<name>`. Its runroot lives in a short dir of
 * its own: podman refuses a runroot longer than 50 characters.
 */
export function podman(ws: Workspace, name = 'default'): Tool {
  const base = ws.mkdir(`podman-${name}`);
  const runroot = join(tmpdir(), `dy-${randomBytes(4).toString('hex')}`);
  mkdirSync(runroot, { mode: 0o700 });
  ws.defer(`remove podman runroot ${runroot}`, () => rmSync(runroot, { recursive: true, force: true }));
  return new Tool(ws, 'podman', [
    `--root=${base}/root`,
    `--runroot=${runroot}`,
    `--tmpdir=${base}/tmp`,
    '--storage-driver=vfs',
    '--events-backend=file',
    '--cgroup-manager=cgroupfs',
  ]);
}

/** buildah with private storage under `ws/buildah-<name>`. */
export function buildah(ws: Workspace, name = 'default'): Tool {
  const base = ws.mkdir(`buildah-${name}`);
  return new Tool(ws, 'buildah', [`--root=${base}/root`, `--runroot=${base}/run`, '--storage-driver=vfs']);
}
