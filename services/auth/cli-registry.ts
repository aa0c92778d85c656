/**
 * Admin commands that belong to the registry (`images …`, issue 14): the admin CLI runs
 * services/registry/events/cli.ts in a child process with the same arguments and
 * environment, because services never import each other. Its output and exit code pass
 * through unchanged.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTRY_AREAS = new Set(['images']);
const REGISTRY_CLI = fileURLToPath(new URL('../registry/events/cli.ts', import.meta.url));

/** True when the command (the first word that is not an option or --config's value) is a registry one. */
export function isRegistryCommand(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') i++;
    else if (!argv[i]!.startsWith('-')) return REGISTRY_AREAS.has(argv[i]!);
  }
  return false;
}

/** Runs the registry's admin CLI; resolves with its exit code once its output has been passed on. */
export function runRegistryCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), REGISTRY_CLI, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
      if (out.length > 0) io.out(text(out));
      if (err.length > 0) io.err(text(err));
      resolve(code ?? 1);
    });
  });
}
