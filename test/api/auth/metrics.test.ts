// /metrics on the auth service as `npm run auth` starts it (no registry passed in): token
// requests by grant type and result, login failures, throttled requests and latency.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, basic, getToken, postToken, SERVICE, startHarness, type AuthHarness } from './harness.js';

let h: AuthHarness;
before(async () => {
  h = await startHarness({ env: { AUTH_LOGIN_MAX_FAILURES: '2', AUTH_LOGIN_WINDOW_SECONDS: '300' } });
});
after(async () => h.close());

async function metrics(): Promise<string> {
  const res = await fetch(`${h.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

/** The value of the series `name` whose labels include every one in `labels` (order-free). */
function value(text: string, name: string, labels: string): number {
  const wanted = labels.split(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2].split(',');
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length + 1) return Number(m[3]);
  }
  return 0;
}

test('token requests are counted by grant type and result; failures, throttling and latency recorded', async () => {
  const q: Array<[string, string]> = [['service', SERVICE]];
  assert.equal((await getToken(h, q)).status, 200);
  assert.equal((await getToken(h, q, basic('admin', ADMIN_PASSWORD))).status, 200);
  assert.equal((await getToken(h, q, basic('admin', 'wrong-password-1'))).status, 401);
  assert.equal((await getToken(h, q, basic('admin', 'wrong-password-2'))).status, 401);
  assert.equal((await getToken(h, q, basic('admin', 'wrong-password-3'))).status, 429, 'third failure within the window is throttled');
  assert.equal((await postToken(h, { grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: 'test', service: SERVICE })).status, 401);
  assert.equal((await postToken(h, { grant_type: 'password', username: 'nobody', password: 'whatever-pass', client_id: 'test', service: SERVICE })).status, 401);

  const text = await metrics();
  assert.equal(value(text, 'auth_token_requests_total', 'grant_type="anonymous",result="anonymous"'), 1);
  assert.equal(value(text, 'auth_token_requests_total', 'grant_type="basic",result="issued"'), 1);
  assert.equal(value(text, 'auth_token_requests_total', 'grant_type="basic",result="unauthorized"'), 2);
  assert.equal(value(text, 'auth_token_requests_total', 'grant_type="basic",result="throttled"'), 1);
  assert.equal(value(text, 'auth_token_requests_total', 'grant_type="refresh_token",result="unauthorized"'), 1);
  assert.equal(value(text, 'auth_token_requests_total', 'grant_type="password",result="unauthorized"'), 1);
  assert.equal(value(text, 'auth_login_failures_total', 'grant_type="basic"'), 2);
  assert.equal(value(text, 'auth_login_failures_total', 'grant_type="refresh_token"'), 1);
  assert.equal(value(text, 'auth_throttled_requests_total', 'grant_type="basic"'), 1);
  assert.equal(value(text, 'auth_token_request_duration_seconds_count', 'grant_type="basic"'), 4);
  assert.equal(value(text, 'auth_token_request_duration_seconds_bucket', 'le="+Inf",grant_type="anonymous"'), 1);
  assert.match(text, /^process_cpu_seconds_total\{service="auth"\}/m, 'process metrics of the auth service');
});
