/**
 * The web UI's session store (services/web/session.ts) on a real database: a session read
 * back by a second store over the same tables (a restart, another replica), only the id's
 * hash and sealed secrets stored, flash and single sign-on state saved, expiry and the
 * bounded sweep, a key file or a row it was not sealed for refused, and the migration's
 * down. Run by the SQLite and PostgreSQL files next to it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateLatest, migrateRollbackAll, openDatabase, type DatabaseConfig, type Knex } from '../../shared/db/index.js';
import { SessionSealer } from '../../services/web/session-key.js';
import { sessionIdHash, SessionStore } from '../../services/web/session.js';
import { POSTGRES_URL } from '../support/postgres.js';

export interface WebDbFixture {
  config: DatabaseConfig;
  db: Knex;
  /** Another connection pool on the same database (a second replica). */
  openPeer(): Knex;
  dispose(): Promise<void>;
}

export async function sqliteWebDb(): Promise<WebDbFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-web-sessions-'));
  const config = { client: 'sqlite' as const, filename: join(dir, 'web.sqlite') };
  const db = openDatabase(config);
  const peers: Knex[] = [];
  await migrateLatest(db, 'web');
  return {
    config,
    db,
    openPeer: () => (peers[peers.push(openDatabase(config)) - 1]!),
    async dispose() {
      for (const peer of peers) await peer.destroy();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new, uniquely named PostgreSQL schema, dropped by dispose(). */
export async function postgresWebDb(): Promise<WebDbFixture> {
  const schema = `dockyard_web_${process.pid}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const config = { client: 'pg' as const, connection: POSTGRES_URL, schema };
  const db = openDatabase(config);
  const peers: Knex[] = [];
  const dispose = async () => {
    for (const peer of peers) await peer.destroy();
    await db.destroy();
    const cleanup = new pg.Client({ connectionString: POSTGRES_URL });
    await cleanup.connect();
    await cleanup.query(`drop schema if exists "${schema}" cascade`);
    await cleanup.end();
  };
  try {
    await migrateLatest(db, 'web');
  } catch (err) {
    await dispose();
    throw err;
  }
  return { config, db, openPeer: () => (peers[peers.push(openDatabase(config)) - 1]!), dispose };
}

const KEY = SessionSealer.fromSecret(Buffer.from(randomBytes(32).toString('base64')));
const USER = { name: 'alice', refreshToken: 'refresh-token-of-alice-0123456789', adminRefreshToken: 'admin-refresh-token-of-alice-9876', admin: false };

export function runWebSessionsContract(name: string, make: () => Promise<WebDbFixture>): void {
  describe(`web sessions: ${name}`, () => {
    let fixture: WebDbFixture;
    let clock = Date.now();
    const now = () => clock;
    let store: SessionStore;
    before(async () => {
      fixture = await make();
      store = new SessionStore(fixture.db, KEY, { now });
    });
    after(() => fixture?.dispose());

    it('reads a signed-in session back through another store on the same database (a restart, another replica)', async () => {
      const created = await store.create(USER);
      const peer = new SessionStore(fixture.openPeer(), KEY, { now });
      const read = await peer.get(created.id);
      assert.ok(read);
      assert.deepEqual(read.user, USER);
      assert.equal(read.csrf, created.csrf);
      assert.equal(await peer.get(`${created.id.slice(0, -1)}${created.id.endsWith('A') ? 'B' : 'A'}`), undefined, 'one character changed');
      assert.equal(await peer.get('not-a-session-id'), undefined);
    });

    it('stores the id only as its hash and the refresh tokens only sealed', async () => {
      const created = await store.create(USER);
      const rows = (await fixture.db('web_sessions').select('*')) as Array<Record<string, unknown>>;
      const dump = JSON.stringify(rows);
      assert.ok(!dump.includes(created.id), 'the session id appears in the table');
      assert.ok(!dump.includes(USER.refreshToken) && !dump.includes(USER.adminRefreshToken), 'a refresh token appears in the table');
      const row = rows.find((r) => r.id_hash === sessionIdHash(created.id));
      assert.ok(row && typeof row.sealed === 'string' && row.user_name === 'alice');
    });

    it('refuses a session sealed under another key file, and a sealed value copied onto another row', async () => {
      const created = await store.create(USER);
      assert.equal(await new SessionStore(fixture.db, SessionSealer.fromSecret(Buffer.from(randomBytes(32).toString('base64'))), { now }).get(created.id), undefined);
      const victim = await store.create({ name: 'mallory', refreshToken: 'mallory-token' });
      const sealed = ((await fixture.db('web_sessions').first('sealed').where('id_hash', sessionIdHash(created.id))) as { sealed: string }).sealed;
      await fixture.db('web_sessions').where('id_hash', sessionIdHash(victim.id)).update({ sealed });
      assert.equal(await store.get(victim.id), undefined);
      assert.ok(await store.get(created.id));
    });

    it('saves a flash message and a single sign-on state, and only when they changed', async () => {
      const session = await store.create();
      session.flash = 'Tag deleted.';
      session.sso = { state: 'state-1', next: '/r/team/app', leg: 'admin', registry: { name: 'alice', refreshToken: 'sso-registry-token' } };
      await store.save(session);
      const peer = new SessionStore(fixture.openPeer(), KEY, { now });
      const read = (await peer.get(session.id))!;
      assert.equal(read.flash, 'Tag deleted.');
      assert.deepEqual(read.sso, session.sso);
      assert.ok(!JSON.stringify(await fixture.db('web_sessions').select('sealed')).includes('sso-registry-token'));
      // A page that changed nothing writes nothing (here it would overwrite what another replica wrote meanwhile).
      const unchanged = (await store.get(session.id))!;
      await fixture.db('web_sessions').where('id_hash', sessionIdHash(session.id)).update({ flash: 'written by another replica' });
      await store.save(unchanged);
      assert.equal((await store.get(session.id))!.flash, 'written by another replica', 'an unchanged session was written');
      read.flash = undefined;
      await peer.save(read);
      assert.equal((await store.get(session.id))!.flash, undefined);
    });

    it('deletes a destroyed session, and a later save does not bring it back', async () => {
      const session = await store.create(USER);
      await store.destroy(session.id);
      assert.equal(await store.get(session.id), undefined);
      session.flash = 'too late';
      await store.save(session);
      assert.equal(await fixture.db('web_sessions').where('id_hash', sessionIdHash(session.id)).first(), undefined);
    });

    it('ends a session after its idle time, extends it on use, and sweeps expired ones in bounded steps', async () => {
      const short = new SessionStore(fixture.db, KEY, { now, idleMs: 10_000, anonymousIdleMs: 5_000, touchEveryMs: 1_000 });
      await fixture.db('web_sessions').delete();
      const kept = await short.create(USER);
      const anonymous = await short.create();
      const doomed = await Promise.all(Array.from({ length: 7 }, () => short.create(USER)));
      clock += 6_000;
      assert.equal(await short.get(anonymous.id), undefined, 'the anonymous session is past its idle time');
      assert.ok(await short.get(kept.id), 'used after 6 s: extended');
      clock += 6_000;
      assert.ok(await short.get(kept.id), 'still alive 12 s after creation, 6 s after its last use');
      assert.equal(await short.get(doomed[0]!.id), undefined);
      assert.equal(await short.sweep(3), 3);
      assert.equal(await short.sweep(3), 3);
      assert.equal(await short.sweep(3), 2);
      assert.equal(await short.sweep(3), 0);
      const left = (await fixture.db('web_sessions').pluck('id_hash')) as string[];
      assert.deepEqual(left, [sessionIdHash(kept.id)]);
    });

    it('has a migration that goes down and up again', async () => {
      await migrateRollbackAll(fixture.db, 'web');
      assert.equal(await fixture.db.schema.hasTable('web_sessions'), false);
      await migrateLatest(fixture.db, 'web');
      assert.equal(await fixture.db.schema.hasTable('web_sessions'), true);
    });
  });
}
