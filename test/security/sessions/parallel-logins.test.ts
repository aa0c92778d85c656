// Parallel logins cannot outrun the throttle (issue 18.1). Each attempt is counted in SQL
// before its password is checked, so however many arrive at once, at most the limit are
// evaluated: with a limit of 10 per account and address, 200 wrong passwords sent at once
// over 200 connections get at most 10 answers of 401 (and the rest 429), and a right
// password among them is evaluated only if it got one of those 10 places. The same holds
// for the admin API's Basic login, which takes the same path, and for two worker processes
// (DOCKYARD_WORKERS=2) sharing one SQLite file. bcrypt runs at cost 8 so each check takes
// long enough for the requests to overlap.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createUser, SERVICE, type AuthHarness } from '../../api/auth/harness.js';
import { Workspace } from '../../e2e/harness/workspace.js';
import { bytesRead, listeningUrl, startCluster, waitForWorkers } from '../../reliability/support/cluster-process.js';
import { requestFrom, type AddressedReply } from '../../support/from-address.js';
import { startAuth } from '../services.js';

const LIMIT = 10;
const CROWD = 200;

/** Sends the right password among CROWD wrong ones, all at once, each on its own connection from `from`. */
async function crowdWithTheRightOne(url: string, from: string, user: string, password: string): Promise<{ counts: Record<number, number>; right: number }> {
  const attempt = (pw: string) => requestFrom(from, `${url}/token`, { headers: { authorization: basic(user, pw) } });
  const replies = await Promise.all([...Array.from({ length: CROWD }, (_, i) => attempt(`guess-${i}`)), attempt(password)]);
  return { counts: tally(replies.slice(0, CROWD)), right: replies[CROWD].status };
}

function assertAtMostLimitEvaluated({ counts, right }: { counts: Record<number, number>; right: number }): void {
  assert.deepEqual(Object.keys(counts).sort(), ['401', '429'], JSON.stringify(counts));
  assert.ok([200, 429].includes(right), `the right password: ${right}`);
  const evaluated = counts[401] + (right === 200 ? 1 : 0);
  assert.ok(evaluated <= LIMIT, `${evaluated} attempts evaluated (${JSON.stringify(counts)}, right password ${right})`);
}

function tally(replies: AddressedReply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

describe('parallel logins against the throttle', () => {
  let h: AuthHarness;
  before(async () => {
    h = await startAuth({ bcryptCost: 8, env: { AUTH_LOGIN_MAX_FAILURES: String(LIMIT), AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' } });
    await createUser(h, 'target', 'target-password');
  });
  after(() => h?.close());

  it(`${CROWD} wrong passwords and the right one at once from one address: at most ${LIMIT} evaluated`, async () => {
    assertAtMostLimitEvaluated(await crowdWithTheRightOne(h.url, '127.0.0.7', 'target', 'target-password'));
  });

  it(`the same through POST /token and the admin API's Basic login`, async () => {
    const from = '127.0.0.8';
    const post = (i: number) =>
      requestFrom(from, `${h.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'target', password: `guess-${i}`, client_id: 'docker', service: SERVICE }).toString(),
      });
    const posted = tally(await Promise.all(Array.from({ length: CROWD / 2 }, (_, i) => post(i))));
    assert.ok((posted[401] ?? 0) <= LIMIT && (posted[429] ?? 0) >= CROWD / 2 - LIMIT, `POST /token: ${JSON.stringify(posted)}`);
    const adminLogin = (i: number) => requestFrom('127.0.0.9', `${h.url}/api/v1/users`, { headers: { authorization: basic('admin', `guess-${i}`) } });
    const admin = tally(await Promise.all(Array.from({ length: CROWD / 2 }, (_, i) => adminLogin(i))));
    assert.ok((admin[401] ?? 0) <= LIMIT && (admin[429] ?? 0) >= CROWD / 2 - LIMIT, `admin API: ${JSON.stringify(admin)}`);
  });
});

describe('parallel logins against two worker processes on one SQLite file', () => {
  const ws = Workspace.create('parallel-logins-cluster');
  after(() => ws.dispose());

  it(`${CROWD} wrong passwords and the right one at once, spread over both workers: at most ${LIMIT} evaluated`, async () => {
    const password = 'cluster-admin-password';
    const env = { DOCKYARD_WORKERS: '2', DOCKYARD_DATA_DIR: ws.path('data'), AUTH_HTTP_ADDR: '127.0.0.1:0', AUTH_BCRYPT_COST: '8', DOCKYARD_ADMIN_PASSWORD: password };
    const primary = await startCluster(ws, 'auth', 'services/auth/main.ts', { ...env, AUTH_LOGIN_MAX_FAILURES: String(LIMIT), AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' }, 'all workers serving');
    const workers = await waitForWorkers(primary.pid, 2);
    const before = workers.map((pid) => bytesRead(pid));
    assertAtMostLimitEvaluated(await crowdWithTheRightOne(listeningUrl(primary.log()), '127.0.0.10', 'admin', password));
    workers.forEach((pid, i) => assert.ok(bytesRead(pid) - before[i] > 1000, `worker ${pid} served none of the crowd`));
  });
});
