// The Dockerfile: every file it copies exists and is not excluded from the build context,
// the stages do what the image promises, and its HEALTHCHECK probe really works.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runHealthcheck } from './healthcheck-probe.js';

const root = new URL('../../../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const dockerignore = readFileSync(new URL('.dockerignore', root), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** True while a process with this pid exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Instruction {
  keyword: string;
  args: string;
  stage: string;
}

/** Instructions with continuation lines joined, each tagged with its stage name. */
function instructions(): Instruction[] {
  const joined = dockerfile.replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = '';
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!keyword) continue;
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    out.push({ keyword: keyword.toUpperCase(), args, stage });
  }
  return out;
}

const all = instructions();
const inStage = (stage: string, keyword: string): string[] => all.filter((i) => i.stage === stage && i.keyword === keyword).map((i) => i.args);

/** True when a .dockerignore pattern excludes `path` (the patterns used here: names and `*.ext`). */
function ignored(path: string): boolean {
  const first = path.replace(/^\.\//, '').split('/')[0];
  return dockerignore.some((pattern) => {
    if (pattern.startsWith('*.')) return first.endsWith(pattern.slice(1));
    return pattern === first || pattern === path;
  });
}

describe('Dockerfile', () => {
  it('copies only files that exist and are in the build context', () => {
    const copies = all.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='));
    assert.ok(copies.length >= 5);
    for (const copy of copies) {
      const parts = copy.args.split(/\s+/);
      for (const source of parts.slice(0, -1)) {
        assert.ok(existsSync(new URL(source, root)), `COPY source ${source} exists`);
        assert.ok(!ignored(source), `COPY source ${source} is not excluded by .dockerignore`);
      }
    }
  });

  it('copies from stages that exist, and the runtime image needs the typecheck stage', () => {
    const stages = new Set(all.filter((i) => i.keyword === 'FROM').map((i) => i.stage));
    for (const copy of all.filter((i) => i.keyword === 'COPY' && i.args.includes('--from='))) {
      const from = /--from=(\S+)/.exec(copy.args)![1];
      assert.ok(stages.has(from), `stage ${from}`);
    }
    assert.ok(inStage('runtime', 'COPY').some((a) => a.includes('--from=build')), 'BuildKit would skip an unreferenced build stage');
  });

  it('typechecks with dev dependencies and ships production dependencies only', () => {
    assert.ok(inStage('build', 'RUN').some((a) => /^npm ci\b(?!.*--omit)/.test(a)));
    assert.ok(inStage('build', 'RUN').some((a) => a.includes('npx tsc --noEmit')));
    assert.ok(inStage('prod-deps', 'RUN').some((a) => a.includes('npm ci --omit=dev')));
    assert.ok(inStage('runtime', 'COPY').some((a) => a.includes('--from=prod-deps') && a.includes('node_modules')));
    // The image runs compiled JavaScript: dist/ from the build stage, scripts that run node on it.
    assert.ok(inStage('runtime', 'COPY').some((a) => a.includes('--from=build') && a.includes('/app/dist')));
    for (const script of ['start', 'registry', 'auth', 'admin']) assert.match(packageJson.scripts[script], /^node (dist|bin)\//, script);
    assert.ok(packageJson.dependencies.typescript, 'npm ci --omit=dev still runs prepare, which compiles with tsc');
  });

  it('runs as a non-root user on node:20-bookworm-slim with /data, both ports and a health check', () => {
    const froms = all.filter((i) => i.keyword === 'FROM');
    assert.match(froms[froms.length - 1].args, /^node:20-bookworm-slim\b/);
    const user = inStage('runtime', 'USER');
    assert.equal(user.length, 1);
    assert.doesNotMatch(user[0], /^(root|0)(:|$)/);
    assert.ok(inStage('runtime', 'VOLUME').some((a) => a.includes('/data')));
    assert.deepEqual(inStage('runtime', 'EXPOSE').join(' ').split(/\s+/).sort(), ['5000', '5001']);
    assert.equal(inStage('runtime', 'HEALTHCHECK').length, 1);
    const cmd = JSON.parse(inStage('runtime', 'CMD')[0]) as string[];
    assert.equal(cmd[0], 'npm');
    assert.ok(packageJson.scripts[cmd[2]], `script ${cmd[2]} exists`);
  });

  it('HEALTHCHECK passes on a healthy service and fails otherwise', async () => {
    const args = /CMD\s+(\[.*\])\s*$/.exec(inStage('runtime', 'HEALTHCHECK')[0]);
    assert.ok(args, 'exec-form HEALTHCHECK');
    const exec = JSON.parse(args[1]) as string[];
    assert.deepEqual(exec.slice(0, 2), ['node', '-e']);
    const env = { DOCKYARD_HEALTHCHECK_URL: 'http://127.0.0.1:{port}/healthz' };
    assert.equal(await runHealthcheck(exec[2], { status: 200, env }), 0);
    assert.equal(await runHealthcheck(exec[2], { status: 500, env }), 1);
    // Nothing listening on the default registry address inside this test: the probe fails cleanly.
    assert.equal(await runHealthcheck(exec[2], { status: 200, env: { DOCKYARD_HEALTHCHECK_URL: 'http://127.0.0.1:1/healthz' } }), 1);
  });

  it('a stop signal sent to `npm run` reaches the service through the configured script shell', async () => {
    const shell = /npm_config_script_shell=(\S+)/.exec(inStage('runtime', 'ENV').join(' '))?.[1];
    assert.ok(shell, 'runtime sets npm_config_script_shell');
    for (const name of ['registry', 'auth']) {
      assert.doesNotMatch(packageJson.scripts[name], /[;&|]/, `${name} script is one command, which bash execs`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-npm-signal-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'probe', private: true, scripts: { hold: 'node hold.cjs' } }));
    writeFileSync(
      join(dir, 'hold.cjs'),
      "process.on('SIGTERM', () => { process.stdout.write('graceful\\n'); process.exit(0); });\n" +
        "process.stdout.write('ready ' + process.pid + '\\n');\nsetInterval(() => {}, 1000);\n",
    );
    let holdPid = 0;
    try {
      const child = spawn('npm', ['run', '--silent', 'hold'], { cwd: dir, env: { ...process.env, npm_config_script_shell: shell } });
      let output = '';
      const ready = new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const match = /ready (\d+)/.exec(output);
          if (match) {
            holdPid = Number(match[1]);
            resolve();
          }
        });
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await ready;
      child.kill('SIGTERM');
      await exited;
      // npm reaps its child before exiting, so a live process here was orphaned.
      const orphaned = isAlive(holdPid);
      if (orphaned) process.kill(holdPid, 'SIGKILL');
      await closed;
      assert.equal(orphaned, false, 'the service outlived npm');
      assert.match(output, /graceful/, 'the service saw SIGTERM');
    } finally {
      if (holdPid && isAlive(holdPid)) process.kill(holdPid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
