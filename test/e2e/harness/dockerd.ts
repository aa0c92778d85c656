/**
 * A private dockerd per test file: its own data root, exec root, pid file and unix socket
 * inside the workspace (RECIPES.md), no networking, vfs storage. The `docker` CLI is run
 * with DOCKER_HOST and DOCKER_CONFIG pointing at this daemon and a private config dir, so
 * nothing touches the machine's docker. Pushing and pulling need no running container.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess } from './process.js';
import { run, type RunOptions, type RunResult } from './run.js';
import type { Workspace } from './workspace.js';

const DOCKERD = '/usr/sbin/dockerd';

/** A running private docker daemon and a CLI bound to it. */
export interface Dockerd {
  /** DOCKER_HOST / DOCKER_CONFIG for this daemon. */
  env: { DOCKER_HOST: string; DOCKER_CONFIG: string };
  /** The CLI's config dir (config.json lands here after `docker login`). */
  configDir: string;
  /** `docker ARGS`, must succeed. */
  ok(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** `docker ARGS`, must fail with output matching `expected`. */
  fails(args: readonly string[], expected: RegExp, options?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Mount points under `root` (dockerd bind-mounts its data root; a killed daemon leaves it). */
function mountsUnder(root: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint === root || mountPoint.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/** Starts dockerd in `ws` (dir `dockerd/`) and waits until its socket answers /_ping. */
export async function startDockerd(ws: Workspace): Promise<Dockerd> {
  const dir = ws.mkdir('dockerd');
  const socketPath = join(dir, 'docker.sock');
  const pidFile = join(dir, 'docker.pid');
  const configDir = ws.mkdir('dockerd', 'cli-config');
  const env = { DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: configDir };
  const daemon = await startProcess(ws, {
    name: 'dockerd',
    command: DOCKERD,
    args: [
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${pidFile}`,
      `-H=unix://${socketPath}`,
    ],
    ready: () => ping(socketPath),
  });

  const stop = async (): Promise<void> => {
    // By pid file, as dockerd's own tooling does; the process handle is the fallback.
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    } catch {
      pid = undefined;
    }
    if (pid !== undefined && daemon.running()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already exited
      }
      for (let i = 0; i < 100 && daemon.running(); i++) await sleep(100);
    }
    await daemon.stop();
    for (const mountPoint of mountsUnder(dir)) await run('umount', ['-l', mountPoint]);
  };
  ws.defer('stop dockerd', stop);

  const dockerEnv = (options: RunOptions): RunOptions => ({ ...options, env: { ...env, ...options.env } });
  return {
    env,
    configDir,
    ok: (args, options = {}) => ws.ok('docker', args, dockerEnv(options)),
    fails: (args, expected, options = {}) => ws.fails('docker', args, expected, dockerEnv(options)),
    stop,
  };
}
