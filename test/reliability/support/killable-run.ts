/**
 * Runs a command that a crash test may SIGKILL mid-way (the admin CLI writing to the auth
 * database when the machine "dies"). The e2e harness's run() cannot be interrupted from
 * outside, which is exactly what a crash test needs to do.
 */
import { spawn } from 'node:child_process';

/** How a killable command ended. */
export interface KillableResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running command: its outcome, and a way to SIGKILL it. */
export interface KillableRun {
  done: Promise<KillableResult>;
  kill(): void;
}

/** Starts `cmd args` with `env` added to the environment and `input` on stdin. */
export function runKillable(cmd: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; cwd?: string }): KillableRun {
  const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {
    // killed before it read its input: the exit status tells the story
  });
  child.stdin.end(options.input ?? '');
  const done = new Promise<KillableResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
  return {
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
