/**
 * Runs a service entry point (`services/…/main.ts`) as `npm run …` does, until it serves,
 * then stops it with SIGTERM and hands back what it printed. The "stopping" log line proves
 * the stop went through the entry point's handler, so the start (and the warnings it prints
 * once it serves) had completed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Output of one start-and-stop. */
export interface ServiceRun {
  stdout: string;
  stderr: string;
}

/**
 * Starts `script` with `env` (listening on 127.0.0.1:0), checks GET `path` answers `status`,
 * runs `whileServing`, stops it.
 */
export async function runUntilServing(
  script: string,
  env: Record<string, string>,
  path: string,
  status: number,
  whileServing: () => void = () => undefined,
): Promise<ServiceRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"msg":"listening"/.test(stdout) ? /"url":"([^"]+)"/.exec(stdout) : null;
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`${script} exited with ${code}: ${stderr}`)));
  });
  const response = await fetch(`${url}${path}`);
  await response.body?.cancel();
  assert.equal(response.status, status);
  try {
    whileServing();
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /"msg":"stopping"/);
  return { stdout, stderr };
}
