// The compiled build the npm scripts run (`npm ci` runs `prepare`, which runs
// scripts/build.mjs): built here into a temp dir from the current sources, it replaces
// stale output, compiles the migrations, and runs with plain node (no tsx, so any .ts
// import would fail): the bin's CLI migrates and lists users, the registry serves /v2/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// Inside the repository (.tmp/ is git-ignored), so the compiled files resolve packages from its node_modules.
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
const out = mkdtempSync(join(ROOT, '.tmp', 'build-test-'));
const dist = join(out, 'dist');
const data = mkdtempSync(join(tmpdir(), 'dockyard-build-data-'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };

before(() => {
  mkdirSync(join(dist, 'migrations', 'auth'), { recursive: true });
  writeFileSync(join(dist, 'migrations', 'auth', '000_stale.js'), 'throw new Error("stale output was loaded")');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), dist], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  mkdirSync(join(out, 'bin'));
  copyFileSync(join(ROOT, pkg.bin.dockyard), join(out, 'bin', 'dockyard.js'));
});
after(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

test('npm scripts and the bin run compiled JavaScript; prepare builds it', () => {
  assert.equal(pkg.scripts.prepare, 'node scripts/build.mjs');
  assert.equal(pkg.bin.dockyard, 'bin/dockyard.js');
  assert.equal(pkg.scripts.admin, 'node bin/dockyard.js');
  for (const [script, entry] of [['start', 'services/main'], ['registry', 'services/registry/main'], ['auth', 'services/auth/main']]) {
    assert.equal(pkg.scripts[script], `node dist/${entry}.js`);
    assert.ok(existsSync(join(dist, `${entry}.js`)), `${entry}.js was built`);
  }
});

test('every migration is compiled and stale output is gone', () => {
  for (const service of ['auth', 'registry']) {
    const sources = readdirSync(join(ROOT, 'migrations', service)).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '.js'));
    const built = readdirSync(join(dist, 'migrations', service)).filter((f) => f.endsWith('.js'));
    assert.deepEqual(built.sort(), sources.sort());
  }
});

test('the bin runs the compiled CLI with plain node: migrations from dist, JSON on stdout only', () => {
  const env = { ...process.env, DOCKYARD_DATA_DIR: data, DOCKYARD_CONFIG: '' };
  const list = spawnSync(process.execPath, [join(out, 'bin', 'dockyard.js'), 'users', 'list', '--json'], { env, encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), []);
  const unknown = spawnSync(process.execPath, [join(out, 'bin', 'dockyard.js'), 'users', 'frob'], { env, encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown users command frob/);
});

test('the compiled registry serves /v2/', async () => {
  const child = spawn(process.execPath, [join(dist, 'services', 'registry', 'main.js')], {
    env: { ...process.env, DOCKYARD_DATA_DIR: data, DOCKYARD_CONFIG: '', REGISTRY_AUTH: 'none', REGISTRY_HTTP_ADDR: '127.0.0.1:0', WEB_HTTP_ADDR: '127.0.0.1:0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(text);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`registry exited ${code}: ${text}`)));
    });
    const res = await fetch(`${url}/v2/`);
    assert.equal(res.status, 200);
  } finally {
    child.kill('SIGKILL');
  }
});
