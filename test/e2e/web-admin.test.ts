// The web UI's administration pages for the registry in a real browser (Debian's Chromium
// through playwright-core, the harness of web-ui.test.ts): an admin sets tag rules and the
// release-rule badges appear on the repository page (for a user who may only pull, too),
// views quotas and usage, starts a garbage collection dry run and reads its report, adds
// a notification endpoint and reads its delivery log, reads the audit log; axe-core finds
// no serious or critical violation on these pages, and the rules page fits a phone. The
// screenshots in docs/ui/admin-*.png and docs/ui/repository-rules.png are written here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromiumSuiteGate, launchChromium } from '../support/chromium.js';
import { ADMIN, addGrant, addUser, pushMultiArch, registryToken, startWebStack, type WebStack } from '../support/web-stack.js';

const ALICE = { name: 'alice', password: 'alice-pw-admin-browser' };
const SCREENSHOTS = fileURLToPath(new URL('../../docs/ui/', import.meta.url));
const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

async function signIn(page: Page, base: string, user: { name: string; password: string }): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

async function seriousViolations(page: Page): Promise<string[]> {
  const result = (await page.evaluate(`${AXE_SOURCE}; axe.run(document, { resultTypes: ['violations'] })`)) as { violations: Array<{ id: string; impact: string; nodes: unknown[] }> };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`);
}

/** Reloads `page` until `pattern` shows in its main landmark (background work: a GC run, a delivery). */
async function reloadUntil(page: Page, pattern: RegExp): Promise<string> {
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = (await page.locator('main').textContent()) ?? '';
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
    await page.reload();
  }
  return text;
}

if (chromiumSuiteGate('the web UI administration browser tests')) {
  describe('web UI administration in Chromium', () => {
    let stack: WebStack;
    let browser: Browser;
    let admin: Page;
    let receiver: Server;
    let received = 0;
    const stray = randomBytes(4096);

    before(async () => {
      // Grace 0: the stray blob below is garbage at once, so the dry run has something to report.
      stack = await startWebStack({ registryEnv: { REGISTRY_GC_GRACE_SECONDS: '0' } });
      await addUser(stack, ALICE.name, ALICE.password);
      await addGrant(stack, 'user:alice', 'prod/*', 'pull,push');
      await pushMultiArch(stack, ALICE, 'prod/api', ['v1.0.0', 'latest']);
      const token = await registryToken(stack, 'repository:prod/api:pull,push', ALICE);
      const digest = `sha256:${createHash('sha256').update(stray).digest('hex')}`;
      const upload = await fetch(`${stack.registryUrl}/v2/prod/api/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' }, body: stray });
      assert.equal(upload.status, 201);
      receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          received++;
          res.end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      mkdirSync(SCREENSHOTS, { recursive: true });
      browser = await launchChromium();
      admin = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
      await signIn(admin, stack.webUrl, ADMIN);
    });
    after(async () => {
      await browser?.close();
      await stack?.close();
      await new Promise((resolve) => receiver?.close(resolve));
    });

    it('sets tag rules in the UI, and the badges appear on the repository page', async () => {
      await admin.getByRole('link', { name: 'Administration' }).click();
      await admin.getByRole('link', { name: 'Tag rules' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/rules`);
      await admin.getByLabel('Kind').selectOption('immutable');
      await admin.getByLabel(/^Repository pattern/).fill('prod/**');
      await admin.getByLabel(/^Tag pattern/).fill('v*');
      await admin.getByRole('button', { name: 'Add rule' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/rules`);
      assert.match((await admin.getByRole('status').textContent()) ?? '', /Rule 1 \(immutable prod\/\*\* v\*\) is in force/);
      await admin.getByLabel('Kind').selectOption('forbidden');
      await admin.getByLabel(/^Repository pattern/).fill('prod/*');
      await admin.getByLabel(/^Tag pattern/).fill('latest');
      await admin.getByRole('button', { name: 'Add rule' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/rules`);
      assert.equal(await admin.locator('section[aria-labelledby="rules-h"] tbody tr').count(), 2);
      await admin.screenshot({ path: `${SCREENSHOTS}admin-rules.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(admin), []);

      // Alice may only pull and push prod/*: she sees the rules too, through the pull-only endpoint.
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      try {
        const alice = await context.newPage();
        await signIn(alice, stack.webUrl, ALICE);
        await alice.goto(`${stack.webUrl}/r/prod/api`);
        assert.deepEqual(await alice.locator('section[aria-labelledby="rules-h"] .badge').allTextContents(), ['immutable: v*', 'forbidden: latest']);
        const immutable = await alice.locator('section[aria-labelledby="tags-h"] tbody tr', { has: alice.locator('.badge.rule-immutable') }).locator('td:first-child a').allTextContents();
        assert.deepEqual(immutable, ['v1.0.0']);
        await alice.screenshot({ path: `${SCREENSHOTS}repository-rules.png` });
        assert.deepEqual(await seriousViolations(alice), []);
        const forbidden = await alice.goto(`${stack.webUrl}/admin/rules`);
        assert.equal(forbidden?.status(), 403);
      } finally {
        await context.close();
      }
    });

    it('shows quotas and usage', async () => {
      await admin.getByRole('link', { name: 'Quotas and usage' }).click();
      await admin.getByLabel('Namespace', { exact: true }).last().fill('prod');
      await admin.getByLabel(/^Hard limit/).fill('1GB');
      await admin.getByLabel(/^Soft limit/).fill('800MB');
      await admin.getByRole('button', { name: 'Set quota' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/quotas`);
      const row = (await admin.locator('section[aria-labelledby="quotas-h"] tbody tr').allTextContents()).join('');
      assert.match(row, /prod\s*[\d.]+ kB\s*0% of the hard limit\s*800 MB\s*1\.0 GB/);
      await admin.screenshot({ path: `${SCREENSHOTS}admin-quotas.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(admin), []);
    });

    it('starts a garbage collection dry run and shows its report', async () => {
      await admin.getByRole('link', { name: 'Garbage collection' }).click();
      await admin.getByRole('button', { name: 'Start a dry run' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/gc`);
      const text = await reloadUntil(admin, /Would free/);
      assert.match(text, /Would free 4\.1 kB/);
      const digest = `sha256:${createHash('sha256').update(stray).digest('hex')}`;
      assert.match(text, new RegExp(`${digest} \\(4\\.1 kB\\)`));
      await admin.screenshot({ path: `${SCREENSHOTS}admin-gc.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(admin), []);
      // A dry run deletes nothing.
      const token = await registryToken(stack, 'repository:prod/api:pull', ALICE);
      assert.equal((await fetch(`${stack.registryUrl}/v2/prod/api/blobs/${digest}`, { method: 'HEAD', headers: { Authorization: `Bearer ${token}` } })).status, 200);
    });

    it('adds a notification endpoint and shows its delivery log', async () => {
      await admin.getByRole('link', { name: 'Notifications' }).click();
      await admin.getByLabel('Name', { exact: true }).fill('audit-hook');
      await admin.getByLabel(/^URL/).fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`);
      await admin.getByLabel(/^Repository pattern/).fill('prod/**');
      await admin.getByRole('button', { name: 'Add endpoint' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/notifications`);
      await pushMultiArch(stack, ALICE, 'prod/api', ['v1.1.0'], 'notified');
      const text = await reloadUntil(admin, /delivered \d{4}-/);
      assert.match(text, /audit-hook\s*push prod\/api\s*delivered/);
      assert.ok(received > 0);
      await admin.screenshot({ path: `${SCREENSHOTS}admin-notifications.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(admin), []);
    });

    it('shows the audit log, filtered', async () => {
      await admin.getByRole('link', { name: 'Audit log' }).click();
      await admin.waitForURL(`${stack.webUrl}/admin/audit`);
      const registryLog = (await admin.locator('section[aria-labelledby="registry-audit-h"] tbody').textContent()) ?? '';
      assert.match(registryLog, /api:admin\s*tag_rule\.add\s*rule 1/);
      assert.match(registryLog, /quota/);
      await admin.getByLabel('Action').fill('user.create');
      await admin.getByRole('button', { name: 'Filter' }).click();
      await admin.waitForURL(/action=user\.create/);
      const actions = await admin.locator('section[aria-labelledby="auth-audit-h"] tbody td:nth-child(3)').allTextContents();
      assert.ok(actions.length > 0);
      assert.deepEqual([...new Set(actions)], ['user.create']);
      await admin.screenshot({ path: `${SCREENSHOTS}admin-audit.png`, fullPage: true });
      assert.deepEqual(await seriousViolations(admin), []);
    });

    it('fits the administration pages on a phone screen, and its forms work without JavaScript', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, javaScriptEnabled: false });
      try {
        const small = await phone.newPage();
        await signIn(small, stack.webUrl, ADMIN);
        await small.goto(`${stack.webUrl}/admin/rules`);
        assert.ok((await small.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling of the page');
        await small.getByRole('button', { name: 'Apply the release preset' }).click();
        await small.waitForURL(`${stack.webUrl}/admin/rules`);
        assert.match((await small.getByRole('status').textContent()) ?? '', /The release preset is in force/);
        await small.screenshot({ path: `${SCREENSHOTS}admin-rules-phone.png` });
        for (const path of ['/admin/quotas', '/admin/retention', '/admin/gc', '/admin/notifications', '/admin/audit']) {
          await small.goto(`${stack.webUrl}${path}`);
          assert.ok((await small.evaluate('document.documentElement.scrollWidth')) as number <= 390, `${path}: no horizontal scrolling of the page`);
        }
      } finally {
        await phone.close();
      }
    });
  });
}
