// Single sign-on and personal access tokens in the web UI, in real Chromium against a real
// OpenID provider (oidc-provider in its own process, started and stopped here): sign in
// through the provider's login form, land signed in and see what the provider's groups
// grant and nothing more; a callback with a changed state or from another browser is
// refused; the single sign-on user creates an access token (secret shown once), docker's
// Basic login at GET /token works with it and stops working once it is revoked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort } from './harness/ports.js';
import { chromiumSuiteGate, launchChromium } from '../support/chromium.js';
import { CookieJar, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, oidcProviderSuiteGate, signIn, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { addGrant, addGroup, addUser, pushMultiArch, startWebStack, type WebStack } from '../support/web-stack.js';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/ui/', import.meta.url));
const ALICE = { name: 'alice', password: 'alice-pw-sso-test' };
const ACCOUNTS = { 'sub-carol': { preferred_username: 'carol', groups: ['idp-devs', 'not-in-dockyard'] } };

/** docker login's request: GET /token with Basic credentials. */
function dockerLogin(stack: WebStack, user: string, password: string, scope?: string): Promise<Response> {
  const url = new URL(`${stack.authUrl}/token`);
  url.searchParams.set('service', 'dockyard');
  if (scope) url.searchParams.set('scope', scope);
  return fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
}

/** Fills the provider's development login form (and its consent form when it asks). */
async function providerLogin(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.locator('button', { hasText: 'Continue' }).click();
}

const gates = (await oidcProviderSuiteGate('web UI single sign-on')) && chromiumSuiteGate('the web UI single sign-on browser tests');
if (gates) {
  describe('web UI single sign-on and access tokens in Chromium', () => {
    let stack: WebStack;
    let idp: TestOidcProvider;
    let browser: Browser;
    let carol: BrowserContext;
    let page: Page;

    /** A browser context that never reaches beyond loopback (the provider's page imports a web font). */
    async function newContext(): Promise<BrowserContext> {
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
      return context;
    }

    before(async () => {
      const authPort = await freePort();
      const webPort = await freePort();
      const authCallback = `http://127.0.0.1:${authPort}/oidc/callback`;
      const webCallback = `http://127.0.0.1:${webPort}/login/sso/callback`;
      idp = await startOidcProvider({ redirectUris: [authCallback], accounts: ACCOUNTS });
      stack = await startWebStack({
        authEnv: {
          AUTH_HTTP_ADDR: `127.0.0.1:${authPort}`,
          AUTH_OIDC_ISSUER: idp.issuer,
          AUTH_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
          AUTH_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
          AUTH_OIDC_REDIRECT_URL: authCallback,
          AUTH_OIDC_SCOPES: 'openid profile email groups',
          AUTH_OIDC_GROUP_MAP: 'idp-devs=devs',
          AUTH_OIDC_ALLOWED_REDIRECTS: webCallback,
        },
        webEnv: { WEB_HTTP_ADDR: `127.0.0.1:${webPort}`, WEB_SSO_CALLBACK_URL: webCallback },
      });
      await addUser(stack, ALICE.name, ALICE.password);
      await addGrant(stack, 'user:alice', '**', 'pull,push');
      await addGroup(stack, 'devs');
      await addGrant(stack, 'group:devs', 'team/*', 'pull');
      await pushMultiArch(stack, ALICE, 'team/app', ['v1']);
      await pushMultiArch(stack, ALICE, 'secret/vault', ['v1'], 'vault');
      mkdirSync(SCREENSHOTS, { recursive: true });
      browser = await launchChromium();
      carol = await newContext();
      page = await carol.newPage();
    });
    after(async () => {
      await browser?.close();
      await stack?.close();
      await idp?.stop();
    });

    it("signs in through the provider's login form and shows what the provider's groups grant, and no more", async () => {
      await page.goto(`${stack.webUrl}/login`);
      await page.screenshot({ path: `${SCREENSHOTS}login-sso.png` });
      const sessionCookie = async () => (await carol.cookies(stack.webUrl)).find((c) => c.name === 'dockyard_session')?.value;
      const anonymous = await sessionCookie();
      assert.ok(anonymous, 'the sign-in page made a session for its state');
      await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
      await page.waitForURL(new RegExp(`^${idp.issuer}/`));
      await providerLogin(page, 'sub-carol');
      await page.waitForURL(`${stack.webUrl}/`);
      assert.match((await page.locator('header.top').textContent()) ?? '', /Signed in as\s*carol/);
      const signedIn = await sessionCookie();
      assert.ok(signedIn && signedIn !== anonymous, 'a new session id after the sign-in (no fixation)');
      assert.deepEqual(await page.locator('ul.repos li').allTextContents(), ['team/app']);
      assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0);
      await page.goto(`${stack.webUrl}/r/team/app`);
      assert.equal(await page.getByRole('link', { name: /README/ }).count(), 0, 'pull only: no README editing');
      const hidden = await page.goto(`${stack.webUrl}/r/secret/vault`);
      assert.equal(hidden?.status(), 404);
    });

    it('refuses a callback with a changed state, and one that arrives in another browser', async () => {
      const context = await newContext();
      try {
        const tab = await context.newPage();
        // The state the web UI sends to the auth service is changed on the way: the provider and
        // the auth service carry it back unchanged, and the web UI must refuse it.
        await context.route(`${stack.webUrl}/login/sso?**`, async (route) => {
          const answer = await route.fetch({ maxRedirects: 0 });
          const location = new URL(answer.headers()['location']!);
          location.searchParams.set('state', 'a-state-of-another-sign-in');
          await route.fulfill({ status: 303, headers: { location: location.toString() } });
        });
        await tab.goto(`${stack.webUrl}/login`);
        await tab.getByRole('link', { name: 'Sign in with single sign-on' }).click();
        await tab.waitForURL(new RegExp(`^${idp.issuer}/`));
        const refused = tab.waitForResponse((r) => r.url().startsWith(`${stack.webUrl}/login/sso/callback`));
        await providerLogin(tab, 'sub-carol');
        assert.equal((await refused).status(), 403);
        assert.match((await tab.locator('main').textContent()) ?? '', /not started in this browser/);
        await tab.goto(`${stack.webUrl}/`);
        assert.equal(await tab.getByText('Signed in as').count(), 0);

        // An attacker's own sign-in (here driven over HTTP), its callback opened in the victim's browser.
        const attacker = new CookieJar();
        const callback = await signIn(attacker, `${stack.webUrl}/login/sso`, { login: 'sub-carol', stopAt: `${stack.webUrl}/login/sso/callback` });
        assert.ok(callback.searchParams.get('code'));
        assert.equal((await tab.goto(callback.toString()))?.status(), 403);
        await tab.goto(`${stack.webUrl}/`);
        assert.equal(await tab.getByText('Signed in as').count(), 0);
      } finally {
        await context.close();
      }
    });

    it('lets the single sign-on user create an access token that docker login accepts until it is revoked', async () => {
      await page.goto(`${stack.webUrl}/`);
      await page.getByRole('link', { name: 'Access tokens' }).click();
      await page.waitForURL(`${stack.webUrl}/access-tokens`);
      const forged = await page.request.post(`${stack.webUrl}/access-tokens`, { form: { name: 'forged', expires: '1d' } });
      assert.equal(forged.status(), 403, 'a form without the CSRF token is refused');
      await page.getByLabel(/^Name/).fill('laptop');
      await page.getByLabel(/^Expires after/).fill('7d');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = (await page.locator('#token-secret').textContent()) ?? '';
      assert.match(secret, /^dyat_\S+$/);
      await page.screenshot({ path: `${SCREENSHOTS}access-token-created.png` });
      await page.getByRole('link', { name: 'Back to access tokens' }).click();
      assert.doesNotMatch(await page.content(), new RegExp(secret), 'the secret is shown once only');
      assert.deepEqual(await page.locator('section[aria-labelledby="tokens-h"] tbody td:first-child').allTextContents(), ['laptop']);
      assert.equal(await page.getByText('forged').count(), 0);
      await page.screenshot({ path: `${SCREENSHOTS}access-tokens.png` });

      const login = await dockerLogin(stack, 'carol', secret, 'repository:team/app:pull,push');
      assert.equal(login.status, 200);
      const token = ((await login.json()) as { token: string }).token;
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { access: unknown };
      assert.deepEqual(claims.access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
      const tags = await fetch(`${stack.registryUrl}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(tags.status, 200);

      await page.getByRole('button', { name: 'Revoke the token laptop' }).click();
      await page.waitForURL(`${stack.webUrl}/access-tokens`);
      assert.match((await page.getByRole('status').textContent()) ?? '', /Revoked the token laptop/);
      assert.equal((await dockerLogin(stack, 'carol', secret)).status, 401);
    });
  });
}
