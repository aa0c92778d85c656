// docs/operations.md's backup and restore, run verbatim: `npm start` (registry + auth, token
// auth, first admin) gets images pushed with skopeo; the documented backup runs while both
// services keep serving; they are stopped, the data directory is wiped, the documented
// restore puts it back, and after a new start every image pulls with its old digest and
// intact blobs, with the old admin password and keys.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, sha256Digest, type FixtureLayout } from '../fixtures/image.js';
import { skopeo, type Tool } from './harness/clients.js';
import { fileDigest } from './harness/oci.js';
import { freePort } from './harness/ports.js';
import { httpProbe, startProcess, type ManagedProcess } from './harness/process.js';
import { REPO_ROOT } from './harness/services.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';
import { POSTGRES_URL, postgresAdminQuery as adminQuery, postgresUnavailable } from '../support/postgres.js';

const gate = requireTools(['skopeo', 'sqlite3', 'pg_dump', 'pg_restore']);
const PASSWORD = 'backup-test-admin-pw';

/** The shell block of docs/operations.md marked `<!-- tested: NAME -->`. */
function documentedBlock(name: string): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
  const match = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc);
  if (!match) throw new Error(`docs/operations.md has no block marked tested: ${name}`);
  return match[1];
}

/** The databases of one run: SQLite files under the data directory, or two fresh PostgreSQL databases. */
interface Databases {
  env: Record<string, string>;
  /** Empties them (the SQLite files go with the data directory). */
  wipe(): Promise<void>;
  drop(): Promise<void>;
}


async function postgresDatabases(): Promise<Databases> {
  const names = ['registry', 'auth'].map((s) => `dockyard_backup_${s}_${process.pid}_${Date.now().toString(36)}`);
  const recreate = async (): Promise<void> => {
    for (const name of names) {
      await adminQuery(`DROP DATABASE IF EXISTS ${name}`);
      await adminQuery(`CREATE DATABASE ${name}`);
    }
  };
  await recreate();
  const url = (name: string): string => Object.assign(new URL(POSTGRES_URL), { pathname: `/${name}` }).toString();
  return {
    env: { REGISTRY_DATABASE_URL: url(names[0]), AUTH_DATABASE_URL: url(names[1]) },
    wipe: recreate,
    drop: async () => {
      for (const name of names) await adminQuery(`DROP DATABASE IF EXISTS ${name}`);
    },
  };
}

const sqliteDatabases: Databases = { env: {}, wipe: async () => undefined, drop: async () => undefined };

const postgresMissing = await postgresUnavailable();
const skipFor = (kind: 'sqlite' | 'postgres'): string | false =>
  gate.skip || (kind === 'postgres' && postgresMissing !== null && !process.env.CI ? `PostgreSQL: ${postgresMissing}` : false);

for (const kind of ['sqlite', 'postgres'] as const) describe(`backup and restore as docs/operations.md says (${kind})`, { skip: skipFor(kind) }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let sk: Tool;
  let data: string;
  let backup: string;
  let registryHost: string;
  let authPort: number;
  const creds = `admin:${PASSWORD}`;
  const refs = ['team/tiny:v1', 'team/multi:v1'];
  const digests = new Map<string, string>();
  let tokenBeforeBackup: string;
  let databases: Databases;
  const suffix = kind === 'sqlite' ? '' : '-postgres';

  async function start(name: string): Promise<ManagedProcess> {
    return startProcess(ws, {
      name,
      command: process.execPath,
      args: ['--import', 'tsx', 'services/main.ts'],
      cwd: REPO_ROOT,
      env: { DOCKYARD_DATA_DIR: data, REGISTRY_HTTP_ADDR: registryHost, AUTH_HTTP_ADDR: `127.0.0.1:${authPort}`, WEB_HTTP_ADDR: '127.0.0.1:0', DOCKYARD_ADMIN_PASSWORD: PASSWORD, ...databases.env },
      ready: httpProbe(`http://${registryHost}/v2/`),
    });
  }

  async function admin(args: string[], input?: string): Promise<void> {
    await ws.ok(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', ...args], { cwd: REPO_ROOT, input, env: { DOCKYARD_DATA_DIR: data, ...databases.env } });
  }

  async function shell(script: string): Promise<void> {
    await ws.ok('bash', ['-euo', 'pipefail', '-c', script], { env: { DATA: data, BACKUP: backup, ...databases.env } });
  }

  before(async () => {
    databases = kind === 'postgres' ? await postgresDatabases() : sqliteDatabases;
    ws = Workspace.create(`backup-restore-${kind}`);
    fixture = await buildFixtureLayout(ws.path('oci'));
    sk = skopeo(ws);
    data = ws.path('data');
    backup = ws.path('backup');
    registryHost = `127.0.0.1:${await freePort()}`;
    authPort = await freePort();
    const first = await start('dockyard');
    await sk.ok(['copy', '--dest-creds', creds, '--dest-tls-verify=false', fixture.ref('tiny'), `docker://${registryHost}/team/tiny:v1`]);
    await sk.ok(['copy', '--all', '--dest-creds', creds, '--dest-tls-verify=false', fixture.ref('multi'), `docker://${registryHost}/team/multi:v1`]);
    for (const ref of refs) {
      const raw = await sk.ok(['inspect', '--raw', '--creds', creds, '--tls-verify=false', `docker://${registryHost}/${ref}`]);
      digests.set(ref, sha256Digest(raw.stdout));
    }
    // State that lives only in the auth database and the key directory.
    await admin(['users', 'add', 'bob', '--password-stdin'], 'bob-password');
    await admin(['grants', 'add', 'user:bob', 'team/*', 'pull']);
    const tokenResponse = await fetch(`http://127.0.0.1:${authPort}/token?service=dockyard&scope=repository:team/tiny:pull`, {
      headers: { authorization: `Basic ${Buffer.from(creds).toString('base64')}` },
    });
    assert.equal(tokenResponse.status, 200);
    tokenBeforeBackup = ((await tokenResponse.json()) as { token: string }).token;
    // Online: the services keep running (and answering) during the backup.
    await shell(documentedBlock(`backup${suffix}`));
    assert.ok(first.running());
    await first.stop();
    rmSync(data, { recursive: true, force: true });
    await databases.wipe();
    await shell(documentedBlock(`restore${suffix}`));
    await start('dockyard-restored');
  });
  after(async () => {
    await ws?.dispose();
    await databases?.drop();
  });

  it('pulls every image with its old digest, with the old admin password', async () => {
    for (const ref of refs) {
      const raw = await sk.ok(['inspect', '--raw', '--creds', creds, '--tls-verify=false', `docker://${registryHost}/${ref}`]);
      assert.equal(sha256Digest(raw.stdout), digests.get(ref), ref);
    }
    assert.equal(digests.get('team/multi:v1'), fixture.multi.index.digest);
  });

  it('restores users and grants (auth database) and the signing keys', async () => {
    await sk.ok(['inspect', '--raw', '--creds', 'bob:bob-password', '--tls-verify=false', `docker://${registryHost}/team/tiny:v1`]);
    const response = await fetch(`http://${registryHost}/v2/team/tiny/manifests/v1`, {
      headers: { authorization: `Bearer ${tokenBeforeBackup}`, accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    await response.body?.cancel();
    assert.equal(response.status, 200, 'a token signed before the backup is still valid');
  });

  it('serves every blob intact', async () => {
    const pulled = ws.path('pulled');
    await sk.ok(['copy', '--all', '--src-creds', creds, '--src-tls-verify=false', `docker://${registryHost}/team/multi:v1`, `oci:${pulled}:x`]);
    const names = readdirSync(join(pulled, 'blobs', 'sha256'));
    assert.ok(names.length >= 7, 'index, 2 manifests, 2 configs, 2+ layers');
    for (const name of names) assert.equal(await fileDigest(join(pulled, 'blobs', 'sha256', name)), `sha256:${name}`);
  });
});
