/**
 * Debian's Chromium for browser tests, driven by playwright-core (nothing downloaded).
 * Started by the test and closed after it, also on failure. Without /usr/bin/chromium the
 * suite fails under CI and is skipped with the reason elsewhere (as the PostgreSQL gate).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.DOCKYARD_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** True when the browser suite can run; otherwise registers the failing (CI) or skipped test. */
export function chromiumSuiteGate(name: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) test(`Chromium is installed for ${name}`, () => assert.fail(`${CHROMIUM} is missing under CI (apt-get install chromium)`));
  else test(`${name}: chromium`, { skip: `${CHROMIUM} not installed; set CI=1 to make this a failure` }, () => {});
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
