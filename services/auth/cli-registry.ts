/**
 * Admin commands that work on the registry's data (`gc`, `rules`, `quotas`, `retention`) rather than the auth
 * database. The services share no code, so they are run as the registry's own command
 * (services/registry/lifecycle/cli.ts) in a child process, with the same arguments,
 * environment and loader (tsx), and its output passed through.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTRY_COMMANDS = new Set(['gc', 'rules', 'quotas', 'retention']);
const REGISTRY_CLI = fileURLToPath(new URL('../registry/lifecycle/cli.ts', import.meta.url));

/** The first word that is not `--config FILE`. */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--config') i += 1;
    else if (!argv[i]!.startsWith('-')) return argv[i];
  }
  return undefined;
}

/** True when the registry's command line serves `argv`. */
export function isRegistryCommand(argv: readonly string[]): boolean {
  return REGISTRY_COMMANDS.has(commandOf(argv) ?? '');
}

/** Only the loader flags of this process (tsx), not those of a test runner around it. */
function loaderArgs(): string[] {
  const args: string[] = [];
  for (let i = 0; i < process.execArgv.length; i += 1) {
    const arg = process.execArgv[i]!;
    if ((arg === '--import' || arg === '--require' || arg === '--loader') && i + 1 < process.execArgv.length) args.push(arg, process.execArgv[++i]!);
    else if (/^--(import|require|loader)=/.test(arg)) args.push(arg);
  }
  return args;
}

/** Runs the registry's command line; returns its exit code (asynchronously: the caller's event loop keeps running). */
export async function runRegistryCommand(argv: readonly string[], env: Record<string, string | undefined>, io: { out(t: string): void; err(t: string): void }): Promise<number> {
  const child = spawn(process.execPath, [...loaderArgs(), REGISTRY_CLI, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const out = Buffer.concat(stdout).toString('utf8');
  const err = Buffer.concat(stderr).toString('utf8');
  if (out) io.out(out.replace(/\n$/, ''));
  if (err) io.err(err.replace(/\n$/, ''));
  return status ?? 1;
}
