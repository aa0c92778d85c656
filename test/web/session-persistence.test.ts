// Web UI sessions kept in the web service's database: a signed-in cookie still works after
// the web service restarts, sign-out revokes the refresh tokens and deletes the row, a
// tampered cookie is refused, the key file is created private, and two web UIs on the same
// PostgreSQL (with the same key file) serve one session.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { addGrant, addUser, liveRefreshTokens, PageClient, pushMultiArch, startWebStack, type WebStack } from '../support/web-stack.js';
import { postgresSuiteGate, POSTGRES_URL } from '../support/postgres.js';
import { startWebService, type RunningWebService } from '../../services/web/main.js';
import { loadWebConfig } from '../../shared/config/web.js';
import { openDatabase } from '../../shared/db/index.js';
import { createLogger } from '../../shared/observability/logger.js';

const ALICE = { name: 'alice', password: 'alice-pw-persistence' };
const logger = createLogger({ name: 'web-test', level: 'silent' });

/** The number of session rows in the stack's web database. */
async function sessionRows(stack: WebStack): Promise<number> {
  const db = openDatabase({ client: 'sqlite', filename: join(stack.dataDir, 'web', 'web.sqlite') });
  try {
    return Number(((await db('web_sessions').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
  } finally {
    await db.destroy();
  }
}

describe('web UI sessions in the database', () => {
  let stack: WebStack;
  before(async () => {
    stack = await startWebStack();
    await addUser(stack, ALICE.name, ALICE.password);
    await addGrant(stack, 'user:alice', 'team/*', 'pull,push,delete');
    await pushMultiArch(stack, ALICE, 'team/kept-app', ['v1']);
  });
  after(() => stack?.close());

  it('keeps a signed-in session across a restart of the web service, and creates the key file 0600', async () => {
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    assert.match((await alice.request('/')).text, /team\/kept-app/);
    await stack.restartWeb();
    const again = new PageClient(stack.webUrl);
    again.cookie = alice.cookie;
    const page = await again.request('/r/team/kept-app');
    assert.equal(page.status, 200);
    assert.match(page.text, /Sign out/);
    assert.equal(statSync(join(stack.dataDir, 'web', 'session.key')).mode & 0o777, 0o600);
  });

  it('refuses a tampered cookie: the page is the anonymous one', async () => {
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    const [name, value] = alice.cookie.split('=') as [string, string];
    const tampered = new PageClient(stack.webUrl);
    tampered.cookie = `${name}=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    const page = await tampered.request('/r/team/kept-app');
    assert.equal(page.status, 401);
    assert.doesNotMatch(page.text, /Sign out/);
    assert.equal((await alice.request('/r/team/kept-app')).status, 200, 'the real cookie still works');
  });

  it('signs out: the refresh tokens are revoked, the row is deleted, the cookie no longer works after a restart', async () => {
    const before = await sessionRows(stack);
    const tokensBefore = (await liveRefreshTokens(stack, 'user:alice')).length;
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    const cookie = alice.cookie;
    assert.equal(await sessionRows(stack), before + 1, 'sign-in replaces the anonymous session by a new one');
    assert.equal((await liveRefreshTokens(stack, 'user:alice')).length, tokensBefore + 2);
    const csrf = await alice.csrf('/');
    assert.equal((await alice.post('/logout', { _csrf: csrf })).status, 303);
    assert.equal(await sessionRows(stack), before);
    assert.equal((await liveRefreshTokens(stack, 'user:alice')).length, tokensBefore);
    await stack.restartWeb();
    const replay = new PageClient(stack.webUrl);
    replay.cookie = cookie;
    assert.equal((await replay.request('/r/team/kept-app')).status, 401);
  });
});

describe('web UI sessions shared by two web services on PostgreSQL', async () => {
  if (!(await postgresSuiteGate('shared web sessions'))) return;
  let stack: WebStack;
  const schema = `dockyard_web_share_${process.pid}_${randomBytes(4).toString('hex')}`;
  const webs: RunningWebService[] = [];
  before(async () => {
    stack = await startWebStack();
    await addUser(stack, ALICE.name, ALICE.password);
    await addGrant(stack, 'user:alice', 'team/*', 'pull,push');
    await pushMultiArch(stack, ALICE, 'team/shared-app', ['v1']);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    await admin.end();
    const keyFile = join(stack.dataDir, 'shared-session.key');
    for (let i = 0; i < 2; i++) {
      const config = loadWebConfig({ env: { DOCKYARD_DATA_DIR: join(stack.dataDir, `replica-${i}`), WEB_HTTP_ADDR: '127.0.0.1:0', WEB_DATABASE_URL: POSTGRES_URL, WEB_SESSION_KEY_FILE: keyFile } }, stack.registryUrl);
      assert.equal(config.database.client, 'pg');
      webs.push(await startWebService({ ...config, database: { client: 'pg', connection: POSTGRES_URL, schema } }, { logger }));
    }
  });
  after(async () => {
    for (const web of webs) await web.close();
    await stack?.close();
    const cleanup = new pg.Client({ connectionString: POSTGRES_URL });
    await cleanup.connect();
    await cleanup.query(`drop schema if exists "${schema}" cascade`);
    await cleanup.end();
  });

  it('signs in on one and is signed in on the other; a form of the second is accepted by the first', async () => {
    const [a, b] = webs as [RunningWebService, RunningWebService];
    const onA = new PageClient(a.url);
    await onA.signIn(ALICE);
    const onB = new PageClient(b.url);
    onB.cookie = onA.cookie;
    const page = await onB.request('/r/team/shared-app');
    assert.equal(page.status, 200);
    assert.match(page.text, /Sign out/);
    // The CSRF token of B's page is the session's, so A takes the form; the sign-out ends the session on both.
    const csrf = await onB.csrf('/');
    assert.equal((await onA.post('/logout', { _csrf: csrf })).status, 303);
    assert.equal((await onB.request('/r/team/shared-app')).status, 401);
  });
});

describe('web UI with its session database down', () => {
  it('answers a 503 page, not a 500, while the session database cannot be reached', async () => {
    const { createServer } = await import('node:http');
    const { createApp } = await import('../../services/web/app.js');
    const { SessionStore } = await import('../../services/web/session.js');
    const { SessionSealer } = await import('../../services/web/session-key.js');
    // PostgreSQL on a loopback port nobody listens on.
    const db = openDatabase({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:9/test' });
    const sessions = new SessionStore(db, SessionSealer.fromSecret(Buffer.from(randomBytes(32).toString('base64'))));
    const app = createApp(loadWebConfig({ env: { DOCKYARD_DATA_DIR: '/nonexistent-web-test', WEB_HTTP_ADDR: '127.0.0.1:0' } }, 'http://127.0.0.1:9'), { logger, sessions });
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const client = new PageClient(url);
      client.cookie = `dockyard_session=${'a'.repeat(43)}`;
      const page = await client.request('/');
      assert.equal(page.status, 503);
      assert.match(page.text, /session database cannot be reached/);
      assert.equal(page.headers.get('retry-after'), '5');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    }
  });
});
