/**
 * Admin commands that belong to the registry: `images …` (issue 14, events), `import
 * registry2 PATH` (issue 13) and `gc`, `rules`, `quotas`, `retention` (issue 12, lifecycle). The admin CLI runs the registry's
 * command line for that area in a child process with the same arguments and environment,
 * because services never import each other. Its output and exit code pass through
 * unchanged, and the caller's event loop keeps running meanwhile.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Compiled (dist/*.js, run by node) or from source (*.ts, run through tsx in tests and development).
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const registryCli = (path: string): string => fileURLToPath(new URL(`../registry/${path}${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));

const REGISTRY_CLIS: ReadonlyMap<string, string> = new Map([
  ['images', registryCli('events/cli')],
  ['notifications', registryCli('notifications/cli')],
  ['import', registryCli('import/cli')],
  ...['gc', 'rules', 'quotas', 'retention'].map((area): [string, string] => [area, registryCli('lifecycle/cli')]),
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
  io: { out: (text: string) => void; err: (text: string) => void; errIsTty?: boolean },
): Promise<number> {
  const command = commandOf(argv) ?? '';
  const cli = REGISTRY_CLIS.get(command);
  if (!cli) return Promise.reject(new Error('not a registry command'));
  // The import's own command line starts after the word `import` (`registry2 PATH`).
  const rest = command === 'import' ? argv.filter((word, i) => i !== argv.indexOf('import')) : argv;
  const runner = FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), cli] : [cli];
  // On a terminal the child writes its stderr there itself, so its progress bars draw live.
  const child = spawn(process.execPath, [...runner, ...rest], { env, stdio: ['ignore', 'pipe', io.errIsTty ? 'inherit' : 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
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
