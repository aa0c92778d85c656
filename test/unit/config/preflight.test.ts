// `config check` reports what `npm start` will really run and finds what the start would fail
// on, naming the path and the setting: a data directory or database that cannot be written,
// a port in use, a missing file. `npm start` runs the same checks before either service
// listens, so a bad registry setting never leaves the auth service running alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runConfigCheck } from '../../../services/config-check.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;
let busy: Server;
let busyPort: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-preflight-'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
after(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** Free-port settings for both services, so the checks never meet a port someone else holds. */
const ports = { REGISTRY_HTTP_ADDR: '127.0.0.1:0', AUTH_HTTP_ADDR: '127.0.0.1:0' };

async function check(env: Record<string, string>, file?: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const empty = join(dir, 'empty.yml');
  writeFileSync(empty, '');
  const code = await runConfigCheck([file ?? empty], { DOCKYARD_DATA_DIR: join(dir, 'data'), ...ports, ...env }, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('config check', () => {
  it('reports the effective mode of every part as npm start runs it', async () => {
    const result = await check({});
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /registry: http:\/\/127\.0\.0\.1:0, storage filesystem .*\/data\/registry\/blobs, database sqlite .*\/data\/registry\/registry\.sqlite, auth token \(realm http:\/\/127\.0\.0\.1:0\/token, service dockyard, issuer dockyard-auth, keys jwks http:\/\/127\.0\.0\.1:0\/\.well-known\/jwks\.json\)/);
    assert.match(result.out, /registry tls: off \(plain http\)/);
    assert.match(result.out, /auth: http:\/\/127\.0\.0\.1:0, database sqlite .*\/data\/auth\/auth\.sqlite/);
    assert.match(result.out, /npm run registry alone: auth none \(anyone may pull and push\)/);
  });

  it('names the setting of a port already in use', async () => {
    const registry = await check({ REGISTRY_HTTP_ADDR: `127.0.0.1:${busyPort}` });
    assert.equal(registry.code, 1);
    assert.match(registry.err, new RegExp(`registry\\.http\\.addr \\(REGISTRY_HTTP_ADDR\\): 127\\.0\\.0\\.1:${busyPort} is already in use`));
    const auth = await check({ AUTH_HTTP_ADDR: `127.0.0.1:${busyPort}` });
    assert.match(auth.err, new RegExp(`auth\\.http\\.addr \\(AUTH_HTTP_ADDR\\): 127\\.0\\.0\\.1:${busyPort} is already in use`));
  });

  it('names the path and the setting of a data directory that cannot be created', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const result = await check({ DOCKYARD_DATA_DIR: join(file, 'data') });
    assert.equal(result.code, 1);
    assert.match(result.err, /registry\.storage\.filesystem\.rootdirectory \(REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY\), default under datadir \(DOCKYARD_DATA_DIR\): cannot create .*a-file\/data\/registry\/blobs: .*a-file is not a directory/);
    const explicit = await check({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(file, 'blobs') });
    assert.match(explicit.err, /invalid configuration registry\.storage\.filesystem\.rootdirectory \(REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY\): cannot create/);
  });

  it('names missing files: TLS certificate, htpasswd, certificate bundle', async () => {
    const tls = await check({ REGISTRY_HTTP_TLS_CERTIFICATE: join(dir, 'no.crt'), REGISTRY_HTTP_TLS_KEY: join(dir, 'no.key') });
    assert.match(tls.err, /registry\.http\.tls\.certificate \(REGISTRY_HTTP_TLS_CERTIFICATE\): cannot read certificate file .*no\.crt: no such file/);
    const htpasswd = await check({ REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: join(dir, 'no.htpasswd') });
    assert.match(htpasswd.err, /registry\.auth\.htpasswd\.path \(REGISTRY_AUTH_HTPASSWD_PATH\): cannot read .*no\.htpasswd \(ENOENT\)/);
    const bundle = await check({ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'http://a/token', REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: join(dir, 'no.pem') });
    assert.match(bundle.err, /registry\.auth\.token\.rootcertbundle \(REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE\): cannot read .*no\.pem \(ENOENT\)/);
  });

  it('lists the warnings of a distribution config.yml', async () => {
    const file = join(dir, 'distribution.yml');
    writeFileSync(file, `version: 0.1\nstorage: {filesystem: {rootdirectory: ${join(dir, 'root')}}}\nhttp: {addr: ":5000", secret: x}\n`);
    const result = await check({}, file);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /warning: http\.secret: not needed/);
  });
});

describe('config check on a read-only file system', { skip: process.getuid?.() !== 0 && 'needs root to mount' }, () => {
  let mountPoint: string;
  let databaseFile: string;
  let mounted = false;
  let fileMounted = false;

  before(() => {
    mountPoint = join(dir, 'ro');
    mkdirSync(mountPoint);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint]).status === 0;
    // A database file that cannot be written in a directory that can: the file alone read-only.
    mkdirSync(join(dir, 'db'));
    databaseFile = join(dir, 'db', 'registry.sqlite');
    writeFileSync(databaseFile, '');
    fileMounted =
      spawnSync('mount', ['--bind', databaseFile, databaseFile]).status === 0 &&
      spawnSync('mount', ['-o', 'remount,bind,ro', databaseFile]).status === 0;
  });
  after(() => {
    if (fileMounted) spawnSync('umount', [databaseFile]);
    if (mounted) spawnSync('umount', [mountPoint]);
  });

  it('names the blob store directory that cannot be written (even for root)', async (t) => {
    if (!mounted) return t.skip('tmpfs cannot be mounted here');
    const result = await check({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(mountPoint, 'blobs') });
    assert.equal(result.code, 1);
    assert.match(result.err, /registry\.storage\.filesystem\.rootdirectory \(REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY\): cannot write .*ro \(to create .*ro\/blobs\) \(EROFS\)/);
  });

  it('names the database file that cannot be written', async (t) => {
    if (!fileMounted) return t.skip('a file cannot be bind-mounted here');
    const result = await check({ REGISTRY_DATABASE_URL: `sqlite:${databaseFile}` });
    assert.equal(result.code, 1);
    assert.match(result.err, /registry\.database\.url \(REGISTRY_DATABASE_URL\): cannot write .*db\/registry\.sqlite \(EROFS\)/);
  });
});

describe('npm start', () => {
  it('checks everything before any service listens', () => {
    const data = join(dir, 'start-data');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, DOCKYARD_DATA_DIR: data, AUTH_HTTP_ADDR: '127.0.0.1:0', WEB_HTTP_ADDR: '127.0.0.1:0', REGISTRY_HTTP_ADDR: `127.0.0.1:${busyPort}`, DOCKYARD_ADMIN_PASSWORD: 'preflight-pw' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(result.status, 0);
    assert.match(`${result.stdout}${result.stderr}`, new RegExp(`REGISTRY_HTTP_ADDR\\): 127\\.0\\.0\\.1:${busyPort} is already in use`));
    assert.doesNotMatch(`${result.stdout}${result.stderr}`, /listening/);
    // Not even the auth service's one-time work ran: no database, no keys.
    assert.ok(!existsSync(join(data, 'auth', 'auth.sqlite')), 'the auth database must not be created');
  });
});
