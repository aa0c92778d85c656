/**
 * Runs client commands (skopeo, podman, docker, the admin CLI) asynchronously, so servers
 * living in the test process (e.g. the recording proxy) keep answering meanwhile. Results
 * carry stdout and stderr so every assertion message shows what the client said.
 */
import { spawn } from 'node:child_process';

/** How to run one command. */
export interface RunOptions {
  /** Added to (and overriding) the inherited environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  cwd?: string;
  /** A guard against hangs (default 5 minutes); the command is killed and reported as such. */
  timeoutMs?: number;
}

/** What a finished command did. */
export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function mergeEnv(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `cmd args…` to completion; never throws for a non-zero exit (check `code`). */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [cmd, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: mergeEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {
      // the command may exit without reading its stdin; its exit status tells the story
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A readable account of a finished command for assertion messages. */
export function describeRun(result: RunResult): string {
  const status = result.timedOut ? 'timed out (killed)' : result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  const section = (name: string, text: string): string => (text.trim() ? `\n--- ${name} ---\n${text.trimEnd()}` : `\n--- ${name}: (empty)`);
  return `$ ${result.command}\n${status}${section('stdout', result.stdout)}${section('stderr', result.stderr)}`;
}
