// User enumeration through the token endpoint: an unknown user, a wrong password and a
// disabled account get byte-identical answers, and an unknown user costs about as much time
// as a wrong password (one bcrypt comparison against a dummy hash), also for a user whose
// hash has a lower cost than the configured one (imported from htpasswd, or created before
// a cost change: the dummy comparison runs as well, issue 18.5). The timing check is a
// security property, not a performance assertion: it compares medians of interleaved
// samples with a generous factor. bcrypt runs at cost 8 and the database on tmpfs (its
// fsyncs are free), so a skipped comparison (about 25 ms) stands far out of the rest of a
// request and of a noisy machine's jitter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { after, before, describe, it } from 'node:test';
import { adminApi, basic, createUser, getToken, postToken, SERVICE, type AuthHarness, type Reply } from '../../api/auth/harness.js';
import { AdminOperations } from '../../../services/auth/operations/index.js';
import { UserStore } from '../../../services/auth/store/users.js';
import { startAuth } from '../services.js';

const SAMPLES = 21;
/** How far apart the two medians may be; a missing bcrypt comparison shows as a factor of 5 or more. */
const FACTOR = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** What a client can observe of a refusal, apart from time. */
function observable(reply: Reply): Record<string, unknown> {
  return {
    status: reply.status,
    body: reply.text,
    contentType: reply.headers.get('content-type'),
    challenge: reply.headers.get('www-authenticate'),
    cacheControl: reply.headers.get('cache-control'),
  };
}

describe('user enumeration through the token endpoint', () => {
  let auth: AuthHarness;
  before(async () => {
    // The throttle would turn the samples into 429s; it has its own tests.
    const shm = mkdtempSync('/dev/shm/dockyard-enumeration-');
    const onTmpfs = { kind: 'sqlite' as const, config: { client: 'sqlite' as const, filename: join(shm, 'auth.sqlite') }, drop: async () => rmSync(shm, { recursive: true, force: true }) };
    auth = await startAuth({ database: () => onTmpfs, bcryptCost: 8, env: { AUTH_LOGIN_MAX_FAILURES: '100000', AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: '100000', AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000' } });
    await createUser(auth, 'victim', 'victim-password');
    // As `users import-htpasswd` brings it in from a `htpasswd -B` file (cost 5 there; 4 here).
    const htpasswd = `imported:${bcrypt.hashSync('imported-password', 4).replace(/^\$2b/, '$2y')}\n`;
    assert.deepEqual((await new AdminOperations({ db: auth.db, bcryptCost: 8 }).users.importHtpasswd({ name: 'cli', address: '' }, htpasswd)).imported, ['imported']);
    await createUser(auth, 'sleeper', 'sleeper-password');
    const disabled = await adminApi(auth, 'PATCH', '/users/sleeper', { disabled: true });
    assert.equal(disabled.status, 200, disabled.text);
  });
  after(() => auth?.close());

  const get = (user: string, password: string) => getToken(auth, [['service', SERVICE]], basic(user, password));
  const post = (user: string, password: string) => postToken(auth, { grant_type: 'password', username: user, password, client_id: 'docker', service: SERVICE });

  it('an unknown user, a wrong password and a disabled account get identical answers (GET and POST)', async () => {
    for (const ask of [get, post]) {
      const unknown = observable(await ask('nobody-here', 'some-password'));
      assert.equal(unknown.status, 401);
      assert.deepEqual(observable(await ask('victim', 'wrong-password')), unknown, 'wrong password');
      assert.deepEqual(observable(await ask('sleeper', 'sleeper-password')), unknown, 'disabled account, right password');
      assert.deepEqual(observable(await ask('sleeper', 'wrong-password')), unknown, 'disabled account, wrong password');
    }
  });

  async function assertIndistinguishable(t: { diagnostic(message: string): void }, user: string): Promise<void> {
    const timed = async (name: string, password: string): Promise<number> => {
      const started = performance.now();
      const reply = await get(name, password);
      const elapsed = performance.now() - started;
      assert.equal(reply.status, 401, reply.text);
      return elapsed;
    };
    for (let i = 0; i < 3; i++) {
      await timed(`warm-${i}`, 'x-password');
      await timed(user, `warm-${i}`);
    }
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Interleaved, alternating which goes first, so drift on the machine hits both alike.
      if (i % 2 === 0) {
        unknown.push(await timed(`ghost-${i}`, `guess-${i}`));
        wrong.push(await timed(user, `guess-${i}`));
      } else {
        wrong.push(await timed(user, `guess-${i}`));
        unknown.push(await timed(`ghost-${i}`, `guess-${i}`));
      }
    }
    const [u, w] = [median(unknown), median(wrong)];
    const ratio = Math.max(u, w) / Math.min(u, w);
    t.diagnostic(`median unknown user ${u.toFixed(1)} ms, wrong password for ${user} ${w.toFixed(1)} ms`);
    assert.ok(ratio < FACTOR, `median unknown user ${u.toFixed(1)} ms vs wrong password for ${user} ${w.toFixed(1)} ms: factor ${ratio.toFixed(2)}`);
  }

  it(`an unknown user takes about as long as a wrong password (medians of ${SAMPLES} within a factor of ${FACTOR})`, async (t) => {
    await assertIndistinguishable(t, 'victim');
  });

  it('an unknown user takes about as long as a wrong password for a user imported with a cheaper hash', async (t) => {
    await assertIndistinguishable(t, 'imported');
  });

  it("a successful login rehashes an imported user's password at the configured cost; the password keeps working", async () => {
    const users = new UserStore(auth.db);
    assert.equal(bcrypt.getRounds((await users.find('imported'))!.passwordHash), 4);
    assert.equal((await get('imported', 'imported-password')).status, 200);
    const rehashed = (await users.find('imported'))!;
    assert.equal(bcrypt.getRounds(rehashed.passwordHash), 8);
    assert.equal(rehashed.credentialVersion, 0, 'the same password: refresh tokens stay valid');
    assert.equal((await get('imported', 'imported-password')).status, 200);
  });
});
