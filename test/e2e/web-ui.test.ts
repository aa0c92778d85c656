// The web UI in a real browser (Debian's Chromium through playwright-core): sign in, browse
// and search, read a README (a hostile one stays inert), a multi-arch image's platforms,
// layers, Dockerfile steps and source link, copy a pull command, delete one tag while the
// other tags of the same image survive, another user sees nothing of it, CSRF, reading
// without JavaScript, phone width, and axe-core on the main pages. The screenshots in
// docs/ui/ are written by this run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumSuiteGate, launchChromium } from '../support/chromium.js';
import { randomBytes } from 'node:crypto';
import { ADMIN, addGrant, addUser, pushImage, pushMultiArch, putReadme, registryToken, startWebStack, type PushedImage, type WebStack } from '../support/web-stack.js';

const ALICE = { name: 'alice', password: 'alice-pw-browser' };
const BOB = { name: 'bob', password: 'bob-pw-browser' };
const SCREENSHOTS = fileURLToPath(new URL('../../docs/ui/', import.meta.url));
const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

const HOSTILE_README = `# Team App

A small service. Pull it with the command below.

<script>window.__xss = 'script'</script>
<img src="x" onerror="window.__xss = 'onerror'">
[click me](javascript:window.__xss='link')
<a href="#" onclick="window.__xss='onclick'">raw link</a>
![remote](https://tracker.example.com/pixel.png)

| Tag | Use |
| --- | --- |
| stable | production |
`;

async function signIn(page: Page, base: string, user: { name: string; password: string }): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

/** Serious or critical axe-core violations on the current page. */
async function seriousViolations(page: Page): Promise<string[]> {
  const result = (await page.evaluate(`${AXE_SOURCE}; axe.run(document, { resultTypes: ['violations'] })`)) as { violations: Array<{ id: string; impact: string; nodes: unknown[] }> };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`);
}

if (chromiumSuiteGate('the web UI browser tests')) {
  describe('web UI in Chromium', () => {
    let stack: WebStack;
    let browser: Browser;
    let alice: BrowserContext;
    let page: Page;
    let image: PushedImage;
    let pullHost: string;
    const dialogs: string[] = [];

    before(async () => {
      stack = await startWebStack();
      pullHost = new URL(stack.registryUrl).host;
      await addUser(stack, ALICE.name, ALICE.password);
      await addUser(stack, BOB.name, BOB.password);
      await addGrant(stack, 'user:alice', 'team/*', 'pull,push,delete');
      await addGrant(stack, 'user:alice', 'public/*', 'push');
      await addGrant(stack, 'anonymous', 'public/*', 'pull');
      image = await pushMultiArch(stack, ALICE, 'team/app', ['v1', 'stable', 'latest']);
      await pushMultiArch(stack, ALICE, 'team/secret-project', ['v1'], 'secret');
      await pushMultiArch(stack, ALICE, 'public/base', ['3.19'], 'base');
      assert.equal((await putReadme(stack, ALICE, 'team/app', HOSTILE_README)).status, 204);
      assert.equal((await putReadme(stack, ALICE, 'team/secret-project', '# Project Nightjar\n\nConfidential.')).status, 204);
      mkdirSync(SCREENSHOTS, { recursive: true });
      browser = await launchChromium();
      alice = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      await alice.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.webUrl });
      page = await alice.newPage();
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
    });
    after(async () => {
      await browser?.close();
      await stack?.close();
    });

    it('shows anonymous visitors only what anonymous may pull, and signs in', async () => {
      await page.goto(`${stack.webUrl}/`);
      assert.deepEqual(await page.locator('ul.repos li').allTextContents(), ['public/base']);
      await page.goto(`${stack.webUrl}/login`);
      await page.screenshot({ path: `${SCREENSHOTS}login.png` });
      assert.deepEqual(await seriousViolations(page), []);
      await signIn(page, stack.webUrl, ALICE);
      assert.deepEqual(await page.locator('ul.repos li').allTextContents(), ['public/base', 'team/app', 'team/secret-project']);
      await page.screenshot({ path: `${SCREENSHOTS}repositories.png` });
      assert.deepEqual(await seriousViolations(page), []);
      await page.getByLabel('Repository name starts with').fill('team/a');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/q=team%2Fa/);
      assert.deepEqual(await page.locator('ul.repos li').allTextContents(), ['team/app']);
    });

    it('renders the README with its hostile parts inert', async () => {
      await page.getByRole('link', { name: 'team/app' }).click();
      await page.waitForURL(`${stack.webUrl}/r/team/app`);
      assert.equal(await page.locator('.readme h1').textContent(), 'Team App');
      assert.equal(await page.locator('.readme table td').first().textContent(), 'stable');
      assert.equal(await page.evaluate('window.__xss'), undefined);
      assert.equal(await page.locator('.readme script, .readme [onerror], .readme [onclick], .readme a[href^="javascript"], .readme img').count(), 0);
      assert.match((await page.locator('.readme').textContent()) ?? '', /<script>window.__xss = 'script'<\/script>/, 'raw HTML is shown as text');
      assert.deepEqual(dialogs, []);
      // Newest push first (the three tags went up one after the other, maybe within one millisecond).
      assert.deepEqual((await page.locator('section[aria-labelledby="tags-h"] tbody tr td:first-child').allTextContents()).sort(), ['latest', 'stable', 'v1']);
      const pushed = (await page.locator('section[aria-labelledby="tags-h"] tbody time').evaluateAll((times) => times.map((t) => t.getAttribute('datetime')))) as string[];
      assert.deepEqual(pushed, [...pushed].sort().reverse());
      await page.screenshot({ path: `${SCREENSHOTS}repository.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(page), []);
    });

    it("shows a multi-arch tag's platforms, layers, Dockerfile steps, labels and source commit", async () => {
      await page.getByRole('link', { name: 'v1', exact: true }).click();
      await page.waitForURL(`${stack.webUrl}/r/team/app/-/tags/v1`);
      const platforms = page.locator('section[aria-labelledby="platforms-h"] tbody tr td:first-child');
      assert.deepEqual(await platforms.allTextContents(), ['linux/amd64', 'linux/arm64']);
      for (const [i, p] of image.platforms.entries()) {
        const section = page.locator(`section[aria-labelledby="img-${i}"]`);
        assert.equal(await section.locator('h2').textContent(), p.platform);
        assert.match((await section.locator('h3').first().textContent()) ?? '', /^Layers \(2, \d/);
        assert.deepEqual(await section.locator('table').first().locator('tbody tr td:nth-child(3)').allTextContents(), p.layers.map((l) => l.digest.slice(0, 19)));
        assert.match((await section.locator('ol.history').textContent()) ?? '', new RegExp(`RUN apk add --no-cache curl-${p.platform.split('/')[1]}`));
        assert.match((await section.textContent()) ?? '', /maintainer\s*team@example.com/);
      }
      assert.equal(await page.getByRole('link', { name: /git\.example\.com\/team\/app @ 0123456789ab/ }).getAttribute('href'), 'https://git.example.com/team/app/commit/0123456789abcdef');
      assert.equal(await page.locator('#pull-digest').textContent(), `docker pull ${pullHost}/team/app@${image.digest}`);
      await page.screenshot({ path: `${SCREENSHOTS}tag.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(page), []);
    });

    it('copies the pull command with the copy button', async () => {
      await page.locator('button[data-copy="pull-tag"]').click();
      await page.locator('button[data-copy="pull-tag"]', { hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), `docker pull ${pullHost}/team/app:v1`);
    });

    it('refuses a README form post without the CSRF token', async () => {
      const res = await page.request.post(`${stack.webUrl}/r/team/app/-/readme`, { form: { content: '# defaced' } });
      assert.equal(res.status(), 403);
      await page.goto(`${stack.webUrl}/r/team/app`);
      assert.equal(await page.locator('.readme h1').textContent(), 'Team App');
    });

    it('deletes one tag after confirmation; the other tags of the same image survive', async () => {
      await page.goto(`${stack.webUrl}/r/team/app/-/tags/v1`);
      await page.getByRole('link', { name: 'Delete the tag v1' }).click();
      await page.waitForURL(`${stack.webUrl}/r/team/app/-/tags/v1/delete`);
      assert.deepEqual(await seriousViolations(page), []);
      await page.getByRole('button', { name: 'Delete the tag v1' }).click();
      await page.waitForURL(`${stack.webUrl}/r/team/app`);
      assert.match((await page.getByRole('status').textContent()) ?? '', /Deleted the tag v1/);
      assert.deepEqual((await page.locator('section[aria-labelledby="tags-h"] tbody tr td:first-child').allTextContents()).sort(), ['latest', 'stable']);
      const token = await registryToken(stack, 'repository:team/app:pull', ALICE);
      for (const tag of ['stable', 'latest']) {
        const res = await fetch(`${stack.registryUrl}/v2/team/app/manifests/${tag}`, { method: 'HEAD', headers: { Authorization: `Bearer ${token}`, Accept: 'application/vnd.oci.image.index.v1+json' } });
        assert.equal(res.status, 200, tag);
        assert.equal(res.headers.get('docker-content-digest'), image.digest);
      }
      const gone = await fetch(`${stack.registryUrl}/v2/team/app/manifests/v1`, { method: 'HEAD', headers: { Authorization: `Bearer ${token}` } });
      assert.equal(gone.status, 404);
    });

    it('shows another user neither the names nor the READMEs of repositories they may not pull', async () => {
      const context = await browser.newContext();
      try {
        const bob = await context.newPage();
        await signIn(bob, stack.webUrl, BOB);
        assert.deepEqual(await bob.locator('ul.repos li').allTextContents(), ['public/base']);
        await bob.goto(`${stack.webUrl}/?q=team`);
        assert.doesNotMatch(await bob.content(), /team\/app|secret-project/);
        const response = await bob.goto(`${stack.webUrl}/r/team/secret-project`);
        assert.equal(response?.status(), 404);
        assert.doesNotMatch((await bob.locator('main').textContent()) ?? '', /Nightjar|Confidential|secret-project/);
        await bob.screenshot({ path: `${SCREENSHOTS}not-found.png` });
        assert.deepEqual(await seriousViolations(bob), []);
      } finally {
        await context.close();
      }
    });

    it('shows what an image is built on and what uses it', async () => {
      const base = [randomBytes(400), randomBytes(400)];
      await pushImage(stack, ALICE, 'public/base', 'slim', base);
      await pushImage(stack, ALICE, 'team/app', 'on-slim', [...base, randomBytes(200)]);
      await page.goto(`${stack.webUrl}/r/team/app/-/tags/on-slim`);
      assert.deepEqual(await page.locator('section[aria-labelledby="lineage-h"] ul').first().locator('li').allTextContents(), ['public/base:slim']);
      await page.getByRole('link', { name: 'public/base:slim' }).click();
      assert.match((await page.locator('section[aria-labelledby="lineage-h"]').textContent()) ?? '', /team\/app:on-slim/);
      // Anonymous visitors may pull public/base but not team/app: the dependent stays hidden.
      const anonymous = await browser.newContext();
      try {
        const visitor = await anonymous.newPage();
        await visitor.goto(`${stack.webUrl}/r/public/base/-/tags/slim`);
        assert.doesNotMatch((await visitor.locator('main').textContent()) ?? '', /team\/app/);
      } finally {
        await anonymous.close();
      }
    });

    it('lets an admin create a robot (secret shown once) and grant it pull', async () => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      try {
        const admin = await context.newPage();
        await signIn(admin, stack.webUrl, ADMIN);
        await admin.getByRole('link', { name: 'Administration' }).click();
        await admin.waitForURL(`${stack.webUrl}/admin`);
        assert.ok((await admin.locator('section[aria-labelledby="users-h"] tbody td:first-child').allTextContents()).includes('alice'));
        await admin.getByLabel('New robot name').fill('ci');
        await admin.getByRole('button', { name: 'Create robot' }).click();
        const secret = (await admin.locator('#robot-secret').textContent()) ?? '';
        assert.match(secret, /^\S{20,}$/);
        await admin.screenshot({ path: `${SCREENSHOTS}robot-created.png` });
        assert.deepEqual(await seriousViolations(admin), []);
        await admin.getByRole('link', { name: 'Back to administration' }).click();
        assert.doesNotMatch(await admin.content(), new RegExp(secret), 'the secret is shown once only');
        await admin.getByLabel(/^Subject/).fill('robot:ci');
        await admin.getByLabel(/^Repository pattern/).fill('team/*');
        await admin.getByLabel(/^Actions/).fill('pull');
        await admin.getByRole('button', { name: 'Add grant' }).click();
        await admin.waitForURL(`${stack.webUrl}/admin`);
        assert.match((await admin.getByRole('status').textContent()) ?? '', /Granted pull on team\/\* to robot:ci/);
        await admin.screenshot({ path: `${SCREENSHOTS}admin.png`, fullPage: true });
        assert.deepEqual(await seriousViolations(admin), []);
        const token = await registryToken(stack, 'repository:team/app:pull', { name: 'robot$ci', password: secret });
        const res = await fetch(`${stack.registryUrl}/v2/team/app/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
      } finally {
        await context.close();
      }
    });

    it('reads without JavaScript, and fits a phone screen', async () => {
      const noScript = await browser.newContext({ javaScriptEnabled: false });
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      try {
        const plain = await noScript.newPage();
        await plain.goto(`${stack.webUrl}/r/public/base/-/tags/3.19`);
        assert.deepEqual(await plain.locator('section[aria-labelledby="platforms-h"] tbody tr td:first-child').allTextContents(), ['linux/amd64', 'linux/arm64']);
        assert.equal(await plain.locator('button[data-copy]').first().isVisible(), false, 'copy buttons need the script');
        const small = await phone.newPage();
        await small.goto(`${stack.webUrl}/r/public/base/-/tags/3.19`);
        assert.ok((await small.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling of the page');
        await small.screenshot({ path: `${SCREENSHOTS}tag-phone.png` });
      } finally {
        await noScript.close();
        await phone.close();
      }
    });
  });
}
