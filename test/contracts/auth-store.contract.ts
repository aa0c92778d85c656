/**
 * The auth stores, operations and throttle against a real database. One suite, run on
 * SQLite (auth-store-sqlite.test.ts) and PostgreSQL (auth-store-postgres.test.ts), so
 * both dialects hold and return the same values.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateLatest, migrateRollbackAll, openDatabase, type Knex } from '../../shared/db/index.js';
import { DockyardError } from '../../shared/http/errors.js';
import { AuditStore } from '../../services/auth/store/audit.js';
import { GrantStore } from '../../services/auth/store/grants.js';
import { GroupStore } from '../../services/auth/store/groups.js';
import { RefreshTokenStore } from '../../services/auth/store/refresh-tokens.js';
import { RobotStore } from '../../services/auth/store/robots.js';
import { UserStore } from '../../services/auth/store/users.js';
import { AdminOperations } from '../../services/auth/operations/index.js';
import { ANONYMOUS } from '../../services/auth/authorize.js';
import { POSTGRES_URL as AUTH_POSTGRES_URL, postgresUnavailable as authPostgresUnavailable } from '../support/postgres.js';
export { AUTH_POSTGRES_URL, authPostgresUnavailable };


/** A migrated auth database and how to throw it away. */
export interface AuthDbFixture {
  db: Knex;
  /**
   * Another connection pool on the same database, as a second replica has (closed by
   * dispose). On SQLite this is `db` itself: SQLite replicas are processes, and a second
   * pool in this process would block the event loop in the busy wait while the first one's
   * transaction needs that loop to finish.
   */
  openPeer(): Knex;
  dispose(): Promise<void>;
}



/** A fresh SQLite file in a temp dir. */
export async function sqliteAuthDb(): Promise<AuthDbFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-auth-store-'));
  const db = openDatabase({ client: 'sqlite', filename: join(dir, 'auth.sqlite') });
  await migrateLatest(db, 'auth');
  return {
    db,
    openPeer: () => db,
    async dispose() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new, uniquely named PostgreSQL schema, dropped by dispose(). */
export async function postgresAuthDb(): Promise<AuthDbFixture> {
  const schema = `dockyard_auth_${process.pid}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: AUTH_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const config = { client: 'pg' as const, connection: AUTH_POSTGRES_URL, schema };
  const db = openDatabase(config);
  const peers: Knex[] = [];
  const dispose = async () => {
    for (const peer of peers) await peer.destroy();
    await db.destroy();
    const cleanup = new pg.Client({ connectionString: AUTH_POSTGRES_URL });
    await cleanup.connect();
    await cleanup.query(`drop schema if exists "${schema}" cascade`);
    await cleanup.end();
  };
  try {
    await migrateLatest(db, 'auth');
  } catch (err) {
    await dispose();
    throw err;
  }
  return { db, openPeer: () => peers[peers.push(openDatabase(config)) - 1], dispose };
}

function code(err: unknown): string | undefined {
  return err instanceof DockyardError ? err.code : undefined;
}

const cli = { name: 'cli:test', address: '' };

/** Registers the whole suite for one dialect. */
export function runAuthStoreContract(dialect: string, open: () => Promise<AuthDbFixture>): void {
  describe(`auth stores on ${dialect}`, () => {
    let fx: AuthDbFixture;
    before(async () => {
      fx = await open();
    });
    after(async () => {
      await fx?.dispose();
    });

    test('migrations roll back completely and apply again', async () => {
      const scratch = await open();
      try {
        await migrateRollbackAll(scratch.db, 'auth');
        for (const table of ['users', 'groups', 'group_members', 'robots', 'grants', 'refresh_tokens', 'audit', 'login_attempts', 'login_failures']) {
          assert.equal(await scratch.db.schema.hasTable(table), false, `${table} left behind by down()`);
        }
        await migrateLatest(scratch.db, 'auth');
        assert.equal(await scratch.db.schema.hasTable('refresh_tokens'), true);
      } finally {
        await scratch.dispose();
      }
    });

    test('users: insert, read back typed values, update, conflict, delete', async () => {
      const users = new UserStore(fx.db);
      const created = await users.insert({ name: 'u-alice', passwordHash: '$2b$04$x', admin: true, now: 1_700_000_000_123 });
      assert.equal(created.admin, true);
      assert.equal(created.disabled, false);
      assert.equal(created.createdAt, 1_700_000_000_123);
      assert.equal(typeof created.passwordChangedAt, 'number');
      await assert.rejects(users.insert({ name: 'u-alice', passwordHash: 'h', admin: false, now: 1 }), (e) => code(e) === 'CONFLICT');
      assert.equal(await users.update('u-alice', { disabled: true, passwordHash: 'h2', passwordChangedAt: 5 }), true);
      const updated = await users.find('u-alice');
      assert.deepEqual([updated?.disabled, updated?.passwordHash, updated?.passwordChangedAt], [true, 'h2', 5]);
      assert.equal(await users.update('nobody', { disabled: true }), false);
      assert.equal(await users.delete('u-alice'), true);
      assert.equal(await users.find('u-alice'), null);
    });

    test('groups: members, names for a user, cascades on user and group delete', async () => {
      const users = new UserStore(fx.db);
      const groups = new GroupStore(fx.db);
      const user = await users.insert({ name: 'g-bob', passwordHash: 'h', admin: false, now: 1 });
      await groups.insert('g-devs', 1);
      await groups.insert('g-ops', 1);
      await assert.rejects(groups.insert('g-devs', 2), (e) => code(e) === 'CONFLICT');
      await groups.addMember('g-devs', 'g-bob');
      await groups.addMember('g-ops', 'g-bob');
      await assert.rejects(groups.addMember('g-devs', 'g-bob'), (e) => code(e) === 'CONFLICT');
      await assert.rejects(groups.addMember('g-none', 'g-bob'), (e) => code(e) === 'NOT_FOUND');
      await assert.rejects(groups.addMember('g-devs', 'g-nobody'), (e) => code(e) === 'NOT_FOUND');
      assert.deepEqual((await groups.namesForUser(user.id)).sort(), ['g-devs', 'g-ops']);
      assert.deepEqual((await groups.find('g-devs'))?.members, ['g-bob']);
      await groups.removeMember('g-ops', 'g-bob');
      await assert.rejects(groups.removeMember('g-ops', 'g-bob'), (e) => code(e) === 'NOT_FOUND');
      assert.equal(await groups.delete('g-ops'), true);
      await users.delete('g-bob');
      assert.deepEqual((await groups.find('g-devs'))?.members, [], 'membership survived the user');
    });

    test('robots: insert, revoke, touch writes at most once per interval', async () => {
      const robots = new RobotStore(fx.db);
      const robot = await robots.insert({ name: 'robot$r1', secretHash: 'a'.repeat(64), expiresAt: 9_000_000_000_000, createdBy: 'x', now: 10 });
      assert.deepEqual([robot.expiresAt, robot.revoked, robot.lastUsedAt], [9_000_000_000_000, false, null]);
      await robots.touch(robot.id, 100_000, 60_000);
      await robots.touch(robot.id, 130_000, 60_000);
      assert.equal((await robots.find('robot$r1'))?.lastUsedAt, 100_000);
      await robots.touch(robot.id, 170_000, 60_000);
      assert.equal((await robots.find('robot$r1'))?.lastUsedAt, 170_000);
      assert.equal(await robots.revoke('robot$r1'), true);
      assert.equal((await robots.find('robot$r1'))?.revoked, true);
      assert.equal(await robots.revoke('robot$none'), false);
    });

    test('grants: add merges actions, forPrincipal reads only rules that can apply', async () => {
      const grants = new GrantStore(fx.db);
      const base = { createdBy: 'x', now: 1 };
      const first = await grants.add({ subjectKind: 'user', subjectName: 'gr-alice', pattern: 'team/*', actions: ['pull'], ...base });
      const merged = await grants.add({ subjectKind: 'user', subjectName: 'gr-alice', pattern: 'team/*', actions: ['push', 'pull'], ...base });
      assert.equal(merged.id, first.id);
      assert.deepEqual(merged.actions, ['pull', 'push']);
      await grants.add({ subjectKind: 'group', subjectName: 'gr-devs', pattern: 'devs/**', actions: ['*'], ...base });
      await grants.add({ subjectKind: 'anonymous', subjectName: '', pattern: 'public/**', actions: ['pull'], ...base });
      await grants.add({ subjectKind: 'authenticated', subjectName: '', pattern: 'internal/*', actions: ['pull'], ...base });
      await grants.add({ subjectKind: 'robot', subjectName: 'robot$gr', pattern: 'ci/*', actions: ['push'], ...base });
      const patterns = async (p: Parameters<GrantStore['forPrincipal']>[0]) => (await grants.forPrincipal(p)).map((g) => g.pattern).sort();
      assert.deepEqual(await patterns({ kind: 'user', name: 'gr-alice', admin: false, groups: ['gr-devs'] }), ['devs/**', 'internal/*', 'public/**', 'team/*']);
      assert.deepEqual(await patterns({ kind: 'user', name: 'gr-carol', admin: false, groups: [] }), ['internal/*', 'public/**']);
      assert.deepEqual(await patterns({ kind: 'robot', name: 'robot$gr', admin: false, groups: [] }), ['ci/*', 'internal/*', 'public/**']);
      assert.deepEqual(await patterns(ANONYMOUS), ['public/**']);
      assert.equal(await grants.removeForSubject('user', 'gr-alice'), 1);
      assert.equal(await grants.remove(first.id), false);
    });

    test('refresh tokens: lookup by hash, touch, revoke per subject, purge', async () => {
      const tokens = new RefreshTokenStore(fx.db);
      const now = 1_000_000;
      await tokens.insert({ tokenHash: 'b'.repeat(64), subjectKind: 'user', subjectName: 'rt-alice', service: 'svc', clientId: 'docker', now });
      await tokens.insert({ tokenHash: 'c'.repeat(64), subjectKind: 'user', subjectName: 'rt-alice', service: 'svc', clientId: 'docker', now });
      const found = await tokens.findByHash('b'.repeat(64));
      assert.deepEqual(
        found && [found.subjectKind, found.subjectName, found.service, found.clientId, found.lastUsedAt, found.revoked],
        ['user', 'rt-alice', 'svc', 'docker', now, false],
      );
      assert.equal(await tokens.findByHash('d'.repeat(64)), null);
      await tokens.touch(found!.id, now + 30_000, 60_000);
      assert.equal((await tokens.findByHash('b'.repeat(64)))?.lastUsedAt, now);
      await tokens.touch(found!.id, now + 90_000, 60_000);
      assert.equal((await tokens.findByHash('b'.repeat(64)))?.lastUsedAt, now + 90_000);
      assert.equal((await tokens.listForSubject('user', 'rt-alice')).length, 2);
      assert.equal(await tokens.revokeForSubject('user', 'rt-alice'), 2);
      assert.equal(await tokens.revokeForSubject('user', 'rt-alice'), 0);
      assert.equal((await tokens.findByHash('c'.repeat(64)))?.revoked, true);
      assert.equal(await tokens.purge(0), 2);
    });

    test('audit: append, filters, newest first, paging by id cursor', async () => {
      const audit = new AuditStore(fx.db);
      const entry = (i: number) => ({ at: 5_000 + i, actor: i % 2 ? 'au-odd' : 'au-even', action: 'au.test', target: `t${i}`, clientAddress: '10.0.0.1', outcome: 'ok', details: { i } });
      await audit.append([0, 1, 2, 3, 4, 5].map(entry));
      const firstPage = await audit.query({ action: 'au.test', limit: 4 });
      assert.deepEqual(firstPage.map((e) => e.details.i), [5, 4, 3, 2]);
      const nextPage = await audit.query({ action: 'au.test', limit: 4, before: firstPage[3].id });
      assert.deepEqual(nextPage.map((e) => e.details.i), [1, 0]);
      assert.deepEqual((await audit.query({ action: 'au.test', actor: 'au-odd', limit: 10 })).map((e) => e.target), ['t5', 't3', 't1']);
      assert.deepEqual((await audit.query({ action: 'au.test', since: 5_002, until: 5_004, limit: 10 })).map((e) => e.at), [5_003, 5_002]);
      const long = 'x'.repeat(2000);
      await audit.append([{ ...entry(9), target: long, action: 'au.long' }]);
      assert.equal((await audit.query({ action: 'au.long', limit: 1 }))[0].target.length, 512);
    });

    test('audit: deferred appends (the token endpoint\'s group commits) read back, batch after batch; other commits keep their fsync', async () => {
      const audit = new AuditStore(fx.db);
      const entry = (i: number) => ({ at: 6_000 + i, actor: 'au-deferred', action: 'au.deferred', target: `d${i}`, clientAddress: '10.0.0.2', outcome: 'ok', details: { i } });
      // Several batches on the same connection: the statements they run are reused.
      await audit.appendDeferred([0, 1, 2].map(entry));
      await audit.appendDeferred([entry(3)]);
      await audit.appendDeferred([]);
      await audit.syncDeferred();
      const read = await audit.query({ action: 'au.deferred', limit: 10 });
      assert.deepEqual(read.map((e) => [e.target, e.details.i]), [['d3', 3], ['d2', 2], ['d1', 1], ['d0', 0]]);
      if (dialect === 'sqlite') {
        const [{ synchronous }] = (await fx.db.raw('pragma synchronous')) as Array<{ synchronous: number }>;
        assert.equal(synchronous, 2, 'ordinary commits after a deferred append still fsync (synchronous = FULL)');
      }
    });

    test('operations: deleting a user removes grants and revokes refresh tokens, in one audited change', async () => {
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4 });
      await ops.users.create(cli, { name: 'op-dave', password: 'dave-password' });
      const grant = await ops.grants.add(cli, { subject: 'user:op-dave', pattern: 'dave/**', actions: 'pull,push' });
      await new RefreshTokenStore(fx.db).insert({ tokenHash: 'e'.repeat(64), subjectKind: 'user', subjectName: 'op-dave', service: 's', clientId: 'c', now: 1 });
      await ops.users.delete(cli, 'op-dave');
      assert.deepEqual(await ops.grants.list('user:op-dave'), []);
      assert.equal((await new RefreshTokenStore(fx.db).findByHash('e'.repeat(64)))?.revoked, true);
      const page = await ops.queryAudit({ target: 'user:op-dave', limit: 10 });
      assert.deepEqual(page.entries.map((e) => [e.action, e.outcome]), [['user.delete', 'ok'], ['grant.add', 'ok'], ['user.create', 'ok']]);
      assert.deepEqual(page.entries[0].details, { grantsRemoved: 1, refreshTokensRevoked: 1 });
      await assert.rejects(ops.grants.remove(cli, grant.id), (e) => code(e) === 'NOT_FOUND');
    });

    test('operations: the last enabled admin cannot be disabled, demoted or deleted; refusals are audited', async () => {
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4 });
      const admins = (await ops.users.list()).filter((u) => u.admin && !u.disabled);
      for (const admin of admins) await ops.users.setAdmin(cli, admin.name, false).catch(() => undefined);
      await ops.users.create(cli, { name: 'op-root', password: 'root-password', admin: true });
      await ops.users.create(cli, { name: 'op-root2', password: 'root-password', admin: true });
      await ops.users.setDisabled(cli, 'op-root2', true);
      await assert.rejects(ops.users.setDisabled(cli, 'op-root', true), (e) => code(e) === 'CONFLICT');
      await assert.rejects(ops.users.setAdmin(cli, 'op-root', false), (e) => code(e) === 'CONFLICT');
      await assert.rejects(ops.users.delete(cli, 'op-root'), (e) => code(e) === 'CONFLICT');
      assert.equal((await ops.users.get('op-root')).admin, true);
      const refused = await ops.queryAudit({ target: 'user:op-root', outcome: 'refused', limit: 10 });
      assert.deepEqual(refused.entries.map((e) => e.action), ['user.delete', 'user.demote', 'user.disable']);
      await ops.users.setDisabled(cli, 'op-root2', false);
      await ops.users.setDisabled(cli, 'op-root', true);
      assert.equal((await ops.users.get('op-root')).disabled, true);
    });

    test('operations: grants need an existing subject; robots are created with a one-time secret', async () => {
      const ops = new AdminOperations({ db: fx.db, bcryptCost: 4 });
      await assert.rejects(ops.grants.add(cli, { subject: 'group:op-nogroup', pattern: 'x/*', actions: 'pull' }), (e) => code(e) === 'NOT_FOUND');
      await assert.rejects(ops.grants.add(cli, { subject: 'anonymous', pattern: 'x/**/y', actions: 'pull' }), (e) => code(e) === 'REQUEST_INVALID');
      await assert.rejects(ops.grants.add(cli, { subject: 'anonymous', pattern: 'x/*', actions: 'pull,fly' }), (e) => code(e) === 'REQUEST_INVALID');
      const created = await ops.robots.create(cli, { name: 'op-ci', expires: '30d' });
      assert.equal(created.username, 'robot$op-ci');
      assert.match(created.secret, /^[A-Za-z0-9_-]{43}$/);
      const stored = await new RobotStore(fx.db).find('robot$op-ci');
      assert.notEqual(stored?.secretHash, created.secret);
      assert.ok(!JSON.stringify(await ops.robots.list()).includes(created.secret));
      const audit = await ops.queryAudit({ action: 'robot.create', limit: 5 });
      assert.ok(!JSON.stringify(audit).includes(created.secret), 'the secret must never reach the audit trail');
      await ops.grants.add(cli, { subject: 'robot:op-ci', pattern: 'ci/*', actions: 'push,pull' });
      assert.deepEqual((await ops.grants.list('robot:robot$op-ci')).map((g) => g.actions), [['push', 'pull']]);
    });
  });
}
