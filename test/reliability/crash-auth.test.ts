/**
 * Crash safety of the auth database: admin API clients and admin CLI processes create and
 * change users, grants and robots while the auth service (and every CLI process running
 * at that moment, as in a machine crash) is SIGKILLed at seeded random moments and started
 * again on the same data dir, a few rounds.
 *
 * What must hold afterwards: every change acknowledged (admin API 2xx, CLI exit 0) is
 * there; an unacknowledged one is either fully there or fully absent (never half: a user
 * without its password, a grant of a deleted user); acknowledged passwords and robot
 * secrets still log in. Each entity is changed by one worker only, and a worker leaves an
 * entity alone after an unacknowledged change, so every entity has at most two possible
 * states. The seed is printed; RELIABILITY_SEED=<seed> replays the choices.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../e2e/harness/services.js';
import { Workspace } from '../e2e/harness/workspace.js';
import { ApiChannel, basic, CliChannel, grantIdFrom, robotSecretFrom, type Channel, type Outcome } from './support/admin-channels.js';
import { explain, send, type HttpResponse } from './support/http.js';
import { runKillable, type KillableRun } from './support/killable-run.js';
import { Prng, seedFromEnv } from './support/prng.js';
import { authService, type KillableService } from './support/services.js';

const SEED = seedFromEnv();
const ROUNDS = 4;
const API_WORKERS = 2;
const CLI_WORKERS = 2;
/** Bounds the final verification: past this, workers only change what they have. */
const MAX_USERS_PER_WORKER = 40;
const MAX_ROBOTS_PER_WORKER = 15;
const SERVICE = 'dockyard';

interface UserState {
  exists: boolean;
  disabled: boolean;
  password: string;
  /** Ids of the user's acknowledged grants. */
  grants: number[];
  /** Pattern of a grant whose creation was not acknowledged (its id is unknown). */
  pendingGrant?: string;
}

interface RobotState {
  exists: boolean;
  revoked: boolean;
  /** Known only when the creation was acknowledged (the secret is shown once). */
  secret?: string;
}

/** An entity's state after its last acknowledged change, and after the unacknowledged one, if any. */
class Tracked<S> {
  maybe: S | null = null;
  /** Set after an unacknowledged change: the entity is never touched again. */
  settled = false;
  constructor(
    readonly name: string,
    public confirmed: S,
  ) {}

  candidates(): S[] {
    return this.maybe === null ? [this.confirmed] : [this.confirmed, this.maybe];
  }
}

/** One client changing its own users, grants and robots through one channel. */
class AdminWorker {
  readonly users: Array<Tracked<UserState>> = [];
  readonly robots: Array<Tracked<RobotState>> = [];
  private serial = 0;

  constructor(
    private readonly id: number,
    private readonly channel: Channel,
    private readonly rng: Prng,
  ) {}

  /** Makes changes until one is lost to the crash, the crash is under way, or nothing is left to change. */
  async runUntilDown(isDown: () => boolean): Promise<void> {
    while (!isDown()) {
      if (!(await this.step())) return;
    }
  }

  private name(kind: string): string {
    this.serial += 1;
    return `rel${this.id}${kind}${this.serial}`;
  }

  private password(): string {
    return `pw-${SEED}-${this.id}-${this.rng.int(0, 1e9)}`;
  }

  /**
   * Applies one change to `entity`: `after` is its state if the change lands (computed from
   * the server's output once known). Returns false when the change was lost.
   */
  private async change<S>(entity: Tracked<S>, unacknowledged: S, run: Promise<Outcome>, after: (output: string) => S): Promise<boolean> {
    entity.maybe = unacknowledged;
    const outcome = await run;
    if (!outcome.acked) {
      entity.settled = true;
      return false;
    }
    entity.confirmed = after(outcome.output);
    entity.maybe = null;
    return true;
  }

  /** One change; false when it was lost or there is nothing left to change. */
  private async step(): Promise<boolean> {
    const liveUsers = this.users.filter((u) => !u.settled && u.confirmed.exists);
    const liveRobots = this.robots.filter((r) => !r.settled && r.confirmed.exists && !r.confirmed.revoked);
    const roll = this.rng.next();
    if ((roll < 0.3 || liveUsers.length === 0) && this.users.length < MAX_USERS_PER_WORKER) {
      const user = new Tracked<UserState>(this.name('u'), { exists: false, disabled: false, password: '', grants: [] });
      this.users.push(user);
      const state: UserState = { exists: true, disabled: false, password: this.password(), grants: [] };
      return this.change(user, state, this.channel.createUser(user.name, state.password), () => state);
    }
    if (roll < 0.42 && this.robots.length < MAX_ROBOTS_PER_WORKER) {
      const robot = new Tracked<RobotState>(this.name('r'), { exists: false, revoked: false });
      this.robots.push(robot);
      return this.change(robot, { exists: true, revoked: false }, this.channel.createRobot(robot.name), (output) => ({
        exists: true,
        revoked: false,
        secret: robotSecretFrom(output),
      }));
    }
    if (roll < 0.5 && liveRobots.length > 0) {
      const robot = this.rng.pick(liveRobots);
      const state = { ...robot.confirmed, revoked: true };
      return this.change(robot, state, this.channel.revokeRobot(robot.name), () => state);
    }
    // Every entity is at its cap or settled: nothing left to change in this run.
    if (liveUsers.length === 0) return false;
    const user = this.rng.pick(liveUsers);
    const current = user.confirmed;
    if (roll < 0.7) {
      const pattern = `${user.name}/app${this.rng.int(0, 1e6)}`;
      const actions = this.rng.pick(['pull', 'pull,push', '*']);
      return this.change(user, { ...current, pendingGrant: pattern }, this.channel.addGrant(user.name, pattern, actions), (output) => ({
        ...current,
        grants: [...current.grants, grantIdFrom(output)],
      }));
    }
    if (roll < 0.77 && current.grants.length > 0) {
      const id = this.rng.pick(current.grants);
      const state = { ...current, grants: current.grants.filter((g) => g !== id) };
      return this.change(user, state, this.channel.removeGrant(id), () => state);
    }
    if (roll < 0.86) {
      const state = { ...current, password: this.password() };
      return this.change(user, state, this.channel.setPassword(user.name, state.password), () => state);
    }
    if (roll < 0.95) {
      const state = { ...current, disabled: !current.disabled };
      return this.change(user, state, this.channel.setDisabled(user.name, state.disabled), () => state);
    }
    const state: UserState = { exists: false, disabled: false, password: '', grants: [] };
    return this.change(user, state, this.channel.deleteUser(user.name), () => state);
  }
}

interface ActualGrant {
  id: number;
  subject: string;
  pattern: string;
}

/** Whether the stored user (or its absence) is exactly `candidate`. */
function userMatches(candidate: UserState, actual: { exists: boolean; disabled: boolean; grants: ActualGrant[] }): boolean {
  if (candidate.exists !== actual.exists) return false;
  if (!actual.exists) return actual.grants.length === 0;
  if (candidate.disabled !== actual.disabled) return false;
  const ids = new Set(actual.grants.map((g) => g.id));
  if (!candidate.grants.every((id) => ids.has(id))) return false;
  const extra = actual.grants.filter((g) => !candidate.grants.includes(g.id));
  if (candidate.pendingGrant === undefined) return extra.length === 0;
  return extra.length === 0 || (extra.length === 1 && extra[0]!.pattern === candidate.pendingGrant);
}

async function login(url: string, account: string, password: string, agent: Agent): Promise<HttpResponse> {
  return send(`${url}/token?service=${SERVICE}&account=${encodeURIComponent(account)}`, { agent, headers: { Authorization: basic(account, password) } });
}

async function verifyWorkers(url: string, adminPassword: string, workers: AdminWorker[], agent: Agent): Promise<{ users: number; robots: number; uncertain: number }> {
  const admin = { Authorization: basic('admin', adminPassword) };
  const get = async (path: string): Promise<unknown> => {
    const response = await send(`${url}/api/v1${path}`, { agent, headers: admin });
    assert.equal(response.status, 200, `GET ${path}: ${explain(response)}`);
    return JSON.parse(response.body.toString('utf8'));
  };
  const users = new Map(((await get('/users')) as { users: Array<{ name: string; disabled: boolean }> }).users.map((u) => [u.name, u]));
  const grants = ((await get('/grants')) as { grants: ActualGrant[] }).grants;
  const robots = new Map(((await get('/robots')) as { robots: Array<{ name: string; revoked: boolean }> }).robots.map((r) => [r.name, r]));
  let uncertain = 0;
  for (const worker of workers) {
    for (const user of worker.users) {
      const stored = users.get(user.name);
      const actual = { exists: stored !== undefined, disabled: stored?.disabled ?? false, grants: grants.filter((g) => g.subject === `user:${user.name}`) };
      const matching = user.candidates().filter((candidate) => userMatches(candidate, actual));
      assert.ok(matching.length > 0, `user ${user.name} is stored as ${JSON.stringify(actual)}, expected one of ${JSON.stringify(user.candidates())}`);
      if (user.maybe !== null) uncertain += 1;
      if (!actual.exists || actual.disabled) continue;
      const passwords = [...new Set(matching.map((c) => c.password))];
      const answers: number[] = [];
      for (const password of passwords) {
        const answer = await login(url, user.name, password, agent);
        answers.push(answer.status);
        if (answer.status === 200) break;
      }
      assert.ok(answers.includes(200), `user ${user.name}: no acknowledged password logs in (answers ${answers.join(', ')})`);
    }
    for (const robot of worker.robots) {
      const stored = robots.get(`robot$${robot.name}`);
      const actual = { exists: stored !== undefined, revoked: stored?.revoked ?? false };
      const matching = robot.candidates().filter((c) => c.exists === actual.exists && (!c.exists || c.revoked === actual.revoked));
      assert.ok(matching.length > 0, `robot ${robot.name} is stored as ${JSON.stringify(actual)}, expected one of ${JSON.stringify(robot.candidates())}`);
      if (robot.maybe !== null) uncertain += 1;
      const secret = robot.confirmed.secret;
      if (!actual.exists || actual.revoked || secret === undefined) continue;
      const answer = await login(url, `robot$${robot.name}`, secret, agent);
      assert.equal(answer.status, 200, `robot ${robot.name}: its acknowledged secret no longer logs in: ${explain(answer)}`);
    }
  }
  const adminLogin = await login(url, 'admin', adminPassword, agent);
  assert.equal(adminLogin.status, 200, `the first admin no longer logs in: ${explain(adminLogin)}`);
  return {
    users: workers.reduce((n, w) => n + w.users.length, 0),
    robots: workers.reduce((n, w) => n + w.robots.length, 0),
    uncertain,
  };
}

const ws = Workspace.create('reliability-crash-auth');
const agent = new Agent({ keepAlive: true });
after(async () => {
  agent.destroy();
  await ws.dispose();
});

test(`auth: acknowledged user, grant and robot changes survive SIGKILL (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED}: replay with RELIABILITY_SEED=${SEED}`);
  const rng = new Prng(SEED);
  const dataDir = ws.mkdir('auth-data');
  const adminPassword = `admin-${SEED}-secret`;
  // Cheap hashes keep the rounds busy with changes; failed logins must never throttle the checks.
  const settings = { AUTH_BCRYPT_COST: '4', AUTH_LOGIN_MAX_FAILURES: '1000', AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000', AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '100000' };
  const service: KillableService = authService(ws, dataDir, adminPassword, settings);
  const cliEnv = { DOCKYARD_DATA_DIR: dataDir, DOCKYARD_ADMIN_PASSWORD: adminPassword, ...settings };
  const runningCli = new Set<KillableRun>();
  let down = false;
  const apiChannel = () => new ApiChannel(() => service.url, adminPassword, () => down, agent);
  const workers = [
    ...Array.from({ length: API_WORKERS }, (_, i) => new AdminWorker(i, apiChannel(), rng.fork())),
    ...Array.from({ length: CLI_WORKERS }, (_, i) => new AdminWorker(API_WORKERS + i, new CliChannel(cliEnv, runningCli), rng.fork())),
  ];

  for (let round = 1; round <= ROUNDS; round++) {
    await service.start();
    down = false;
    const running = workers.map((w) => w.runUntilDown(() => down));
    const failure = Promise.all(running).then(
      () => undefined,
      (err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${ws.logTails(15)}`, { cause: err });
      },
    );
    const killAfter = rng.int(1500, 4500);
    try {
      await Promise.race([sleep(killAfter), failure]);
    } finally {
      // A machine crash: the service and every admin command running at that moment die
      // together. Also after a failure, so that no worker or command outlives the round.
      down = true;
      for (const run of runningCli) run.kill();
      await service.kill();
      await Promise.allSettled(running);
    }
    await failure;
    t.diagnostic(`round ${round}: SIGKILL after ${killAfter} ms`);
  }

  const url = await service.start();
  const summary = await verifyWorkers(url, adminPassword, workers, agent);
  // The CLI reads the same database the service does, so it must list the same grants.
  const cliGrants = runKillable(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', 'grants', 'list', '--json'], { env: cliEnv, cwd: REPO_ROOT });
  const apiGrants = await send(`${url}/api/v1/grants`, { agent, headers: { Authorization: basic('admin', adminPassword) } });
  const listed = await cliGrants.done;
  assert.equal(listed.code, 0, listed.stderr);
  const ids = (list: Array<{ id: number }>) => list.map((g) => g.id).sort((a, b) => a - b);
  assert.deepEqual(ids(JSON.parse(listed.stdout) as Array<{ id: number }>), ids((JSON.parse(apiGrants.body.toString('utf8')) as { grants: Array<{ id: number }> }).grants));
  await service.stop();
  t.diagnostic(`verified ${summary.users} users and ${summary.robots} robots, ${summary.uncertain} with a change lost to a crash`);
  assert.ok(summary.uncertain > 0, 'no change was ever in flight at a kill: the crash path went untested');
});
