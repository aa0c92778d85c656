// Start-up time of the registry and of the admin CLI, as docs/performance.md reports it:
// `node scripts/startup-time.mjs [runs]` starts the registry (SQLite + filesystem under a
// temp dir, REGISTRY_AUTH=none) once to create its data, then measures each restart from
// spawn to the first 200 on /v2/, and the wall time of `npm run -s admin -- users list`,
// `npx dockyard users list`, the bin run directly, and the same command from the TypeScript
// sources through tsx: wall time, and CPU time, which a busy machine inflates far less.
// Linux with GNU time (/usr/bin/time). Run `npm run build` first for the dist/ rows.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 5);
const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-startup-'));

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function firstOk(url, child) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function registryStart(command, extraEnv = {}) {
  const port = await freePort();
  const env = { ...process.env, ...extraEnv, DOCKYARD_DATA_DIR: dataDir, REGISTRY_AUTH: 'none', REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, LOG_LEVEL: 'warn' };
  const started = process.hrtime.bigint();
  const child = spawn(command[0], command.slice(1), { env, stdio: 'ignore' });
  await firstOk(`http://127.0.0.1:${port}/v2/`, child);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = cpuMsOf(child.pid);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return { ms, cpu };
}

/** CPU time (user + system) a live process used so far, from /proc (Linux; 100 ticks a second). */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Wall and CPU time (the process and its children, measured by GNU time) of one run. */
function timed(command) {
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', ...command], { env: { ...process.env, DOCKYARD_DATA_DIR: dataDir }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command.join(' ')} exited ${result.status}: ${result.stderr}`);
  const [wall, user, sys] = /TIME (\S+) (\S+) (\S+)/.exec(result.stderr).slice(1).map(Number);
  return { ms: wall * 1000, cpu: (user + sys) * 1000 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function summary(label, samples) {
  const walls = samples.map((s) => s.ms);
  console.log(`${label}: wall median ${median(walls).toFixed(0)} ms (min ${Math.min(...walls).toFixed(0)}, max ${Math.max(...walls).toFixed(0)}), CPU median ${median(samples.map((s) => s.cpu)).toFixed(0)} ms (${samples.length} runs)`);
}

async function main() {
  const { loadavg } = await import('node:os');
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const rows = [
    ['registry restart, tsx (services/registry/main.ts)', ['node', '--import', 'tsx', 'services/registry/main.ts']],
    // A fresh container or machine has no tsx cache: every start compiled everything.
    ['registry restart, tsx without its compile cache', ['node', '--import', 'tsx', 'services/registry/main.ts'], { TSX_DISABLE_CACHE: '1' }],
    ...(existsSync('dist/services/registry/main.js') ? [['registry restart, node dist/services/registry/main.js', ['node', 'dist/services/registry/main.js']]] : []),
  ];
  await registryStart(rows[0][1]);
  for (const [label, command, extraEnv] of rows) {
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await registryStart(command, extraEnv));
    summary(label, samples);
  }
  timed(['npm', 'run', '-s', 'admin', '--', 'users', 'list']);
  const cli = [['npm run -s admin -- users list', ['npm', 'run', '-s', 'admin', '--', 'users', 'list']]];
  if (existsSync('dist/services/auth/cli.js')) {
    cli.push(['npx dockyard users list', ['npx', 'dockyard', 'users', 'list']]);
    cli.push(['node bin/dockyard.js users list', ['node', 'bin/dockyard.js', 'users', 'list']]);
    cli.push(['node bin/dockyard.js --help', ['node', 'bin/dockyard.js', '--help']]);
  }
  cli.push(['node --import tsx services/auth/cli.ts users list (from source)', ['node', '--import', 'tsx', 'services/auth/cli.ts', 'users', 'list']]);
  for (const [label, command] of cli) {
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(timed(command));
    summary(label, samples);
  }
}

main().finally(() => rmSync(dataDir, { recursive: true, force: true }));
