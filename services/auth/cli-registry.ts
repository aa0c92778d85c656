/**
 * Admin commands that belong to the registry: `images …` (issue 14, events) and `gc`,
 * `rules`, `quotas`, `retention` (issue 12, lifecycle). The admin CLI runs the registry's
 * command line for that area in a child process with the same arguments and environment,
 * because services never import each other. Its output and exit code pass through
 * unchanged, and the caller's event loop keeps running meanwhile.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTRY_CLIS: ReadonlyMap<string, string> = new Map([
  ['images', fileURLToPath(new URL('../registry/events/cli.ts', import.meta.url))],
  ...['gc', 'rules', 'quotas', 'retention'].map((area): [string, string] => [area, fileURLToPath(new URL('../registry/lifecycle/cli.ts', import.meta.url))]),
]);

/** The command: the first word that is not an option or --config's value. */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') i++;
    else if (!argv[i]!.startsWith('-')) return argv[i];
  }
  return undefined;
}

/** True when the command is a registry one. */
export function isRegistryCommand(argv: readonly string[]): boolean {
  return REGISTRY_CLIS.has(commandOf(argv) ?? '');
}

/** Runs the registry's admin CLI for the command; resolves with its exit code once its output has been passed on. */
export function runRegistryCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const cli = REGISTRY_CLIS.get(commandOf(argv) ?? '');
  if (!cli) return Promise.reject(new Error('not a registry command'));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
