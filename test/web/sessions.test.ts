// The web UI's sessions and forms over plain HTTP: the session cookie's attributes, sign-in
// through the auth service (a refresh token bound to the web UI's client id), CSRF on
// every form, cross-site posts refused, sign-out revoking the refresh token, and the
// error pages (401, 404 without leaking names, 503 when the registry is down).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, addGrant, addUser, liveRefreshTokens, PageClient, pushMultiArch, putReadme, startWebStack, type WebStack } from '../support/web-stack.js';
import { startWebService } from '../../services/web/main.js';
import { loadWebConfig } from '../../shared/config/web.js';
import { createLogger } from '../../shared/observability/logger.js';

const ALICE = { name: 'alice', password: 'alice-pw-sessions' };
const BOB = { name: 'bob', password: 'bob-pw-sessions' };

describe('web UI sessions and forms', () => {
  let stack: WebStack;
  before(async () => {
    stack = await startWebStack();
    await addUser(stack, ALICE.name, ALICE.password);
    await addUser(stack, BOB.name, BOB.password);
    await addGrant(stack, 'user:alice', 'team/*', 'pull,push,delete');
    await pushMultiArch(stack, ALICE, 'team/secret-app', ['v1']);
    await putReadme(stack, ALICE, 'team/secret-app', '# Original');
  });
  after(() => stack?.close());

  it('gives the sign-in form a CSRF token and an HttpOnly, SameSite cookie', async () => {
    const client = new PageClient(stack.webUrl);
    const page = await client.request('/login');
    assert.equal(page.status, 200);
    const cookie = page.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^dockyard_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.match(page.text, /<input type="text" id="username" name="username"/);
    assert.match(page.text, /<input type="password" id="password" name="password"/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'; style-src 'self'/);
  });

  it('refuses a sign-in without the CSRF token, and one from another site', async () => {
    const client = new PageClient(stack.webUrl);
    const csrf = await client.csrf('/login');
    const forged = await client.post('/login', { username: ALICE.name, password: ALICE.password });
    assert.equal(forged.status, 403);
    const crossSite = await client.post('/login', { _csrf: csrf, username: ALICE.name, password: ALICE.password }, { 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    assert.equal((await liveRefreshTokens(stack, 'user:alice')).length, 0);
    const wrong = await client.post('/login', { _csrf: csrf, username: ALICE.name, password: 'not-the-password' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong username or password/);
  });

  it('signs in with a new session holding a refresh token, and signing out revokes it', async () => {
    const client = new PageClient(stack.webUrl);
    await client.csrf('/login');
    const before = client.cookie;
    await client.signIn(ALICE);
    assert.notEqual(client.cookie, before, 'a new session id after sign-in');
    // The registry's and the admin API's (for the self-service access tokens page).
    assert.deepEqual((await liveRefreshTokens(stack, 'user:alice')).map((t) => t.clientId), ['dockyard-web', 'dockyard-web']);
    assert.match((await client.request('/')).text, /team\/secret-app/);
    const csrf = await client.csrf('/');
    assert.equal((await client.post('/logout', {})).status, 403, 'sign-out without the CSRF token');
    assert.equal((await liveRefreshTokens(stack, 'user:alice')).length, 2);
    const out = await client.post('/logout', { _csrf: csrf });
    assert.equal(out.status, 303);
    assert.equal((await liveRefreshTokens(stack, 'user:alice')).length, 0);
    assert.doesNotMatch((await client.request('/')).text, /team\/secret-app/);
  });

  it('refuses a README change without the CSRF token and keeps the README', async () => {
    const client = new PageClient(stack.webUrl);
    await client.signIn(ALICE);
    const refused = await client.post('/r/team/secret-app/-/readme', { content: '# Forged' });
    assert.equal(refused.status, 403);
    const csrf = await client.csrf('/r/team/secret-app/-/readme/edit');
    assert.match((await client.request('/r/team/secret-app')).text, /<h1>Original<\/h1>/);
    assert.equal((await client.post('/r/team/secret-app/-/readme', { _csrf: csrf, content: '# Changed' })).status, 303);
    assert.match((await client.request('/r/team/secret-app')).text, /<h1>Changed<\/h1>/);
  });

  it('shows anonymous visitors a sign-in page and other users a 404 that names nothing', async () => {
    const anonymous = await new PageClient(stack.webUrl).request('/r/team/secret-app');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.text, /Sign in required/);
    const bob = new PageClient(stack.webUrl);
    await bob.signIn(BOB);
    for (const path of ['/r/team/secret-app', '/r/team/secret-app/-/tags/v1', '/r/team/secret-app/-/readme/edit']) {
      const page = await bob.request(path);
      assert.equal(page.status, 404, path);
      assert.doesNotMatch(page.text.replace(/<title>[^<]*<\/title>/, ''), /secret-app|Original|Changed|sha256/);
    }
    assert.doesNotMatch((await bob.request('/')).text, /secret-app/);
    assert.doesNotMatch((await bob.request('/?q=team')).text, /secret-app/);
    assert.equal((await bob.request('/no/such/page')).status, 404);
  });

  it('shows a 503 page when the registry cannot be reached', async () => {
    const web = await startWebService(loadWebConfig({ env: { DOCKYARD_DATA_DIR: stack.dataDir, WEB_HTTP_ADDR: '127.0.0.1:0' } }, 'http://127.0.0.1:9'), { logger: createLogger({ name: 'web-test', level: 'silent' }) });
    try {
      const page = await new PageClient(web.url).request('/');
      assert.equal(page.status, 503);
      assert.match(page.text, /The registry is unavailable/);
    } finally {
      await web.close();
    }
  });

  it('marks the cookie Secure when told the UI is served over HTTPS', async () => {
    const web = await startWebService(loadWebConfig({ env: { DOCKYARD_DATA_DIR: stack.dataDir, WEB_HTTP_ADDR: '127.0.0.1:0', WEB_HTTP_SECURE_COOKIES: 'true' } }, stack.registryUrl), { logger: createLogger({ name: 'web-test', level: 'silent' }) });
    try {
      const page = await new PageClient(web.url).request('/login');
      assert.match(page.headers.get('set-cookie') ?? '', /; HttpOnly; SameSite=Lax; Secure$/);
    } finally {
      await web.close();
    }
  });

  it('deletes a manifest only after the confirmation form, and only for users with delete', async () => {
    const image = await pushMultiArch(stack, ALICE, 'team/doomed', ['a', 'b']);
    await addGrant(stack, 'user:bob', 'team/doomed', 'pull');
    const bob = new PageClient(stack.webUrl);
    await bob.signIn(BOB);
    assert.doesNotMatch((await bob.request('/r/team/doomed/-/tags/a')).text, /Delete the/);
    const bobCsrf = await bob.csrf(`/r/team/doomed/-/manifests/${image.digest}/delete`);
    assert.equal((await bob.post(`/r/team/doomed/-/manifests/${image.digest}/delete`, { _csrf: bobCsrf })).status, 404);
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    assert.match((await alice.request('/r/team/doomed/-/tags/a')).text, /Delete the manifest/);
    const confirm = await alice.request(`/r/team/doomed/-/manifests/${encodeURIComponent(image.digest)}/delete`);
    assert.match(confirm.text, /This cannot be undone/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(confirm.text)![1]!;
    assert.equal((await alice.post(`/r/team/doomed/-/manifests/${image.digest}/delete`, { _csrf: csrf })).status, 303);
    const page = await alice.request('/r/team/doomed');
    assert.match(page.text, /Deleted the manifest/);
    assert.match(page.text, /No tags\./);
  });

  it('keeps the administration pages to admins, and revokes both of an admin\'s tokens at sign-out', async () => {
    const before = (await liveRefreshTokens(stack, 'user:alice')).length;
    const alice = new PageClient(stack.webUrl);
    await alice.signIn(ALICE);
    assert.equal((await alice.request('/admin')).status, 403);
    const csrf = await alice.csrf('/');
    assert.equal((await alice.post('/admin/grants', { _csrf: csrf, subject: 'user:alice', pattern: '**', actions: '*' })).status, 403);
    // A non-admin's admin API token serves the self-service API only: the admin pages and the admin API refuse it.
    assert.equal((await liveRefreshTokens(stack, 'user:alice')).length, before + 2);
    assert.equal((await alice.request('/access-tokens')).status, 200);
    const admin = new PageClient(stack.webUrl);
    await admin.signIn(ADMIN);
    assert.equal((await admin.request('/admin')).status, 200);
    assert.equal((await liveRefreshTokens(stack, 'user:admin')).length, 2);
    assert.equal((await admin.post('/logout', { _csrf: await admin.csrf('/') })).status, 303);
    assert.equal((await liveRefreshTokens(stack, 'user:admin')).length, 0);
  });

  it('sends a user whose refresh token was revoked elsewhere back to the sign-in page', async () => {
    const bob = new PageClient(stack.webUrl);
    await bob.signIn(BOB);
    const res = await fetch(`${stack.authUrl}/api/v1/refresh-tokens/revoke`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ subject: 'user:bob' }),
    });
    assert.equal(res.status, 200);
    // A page needing a token the session does not hold yet asks the auth service, which refuses.
    const page = await bob.request('/r/team/secret-app');
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/login?next=%2Fr%2Fteam%2Fsecret-app');
    assert.match((await bob.request('/')).text, /Sign in/);
  });
});
