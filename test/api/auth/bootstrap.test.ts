// First start of the auth service: the first admin with a generated password printed once
// (never logged), nothing on later starts, and a bad DOCKYARD_ADMIN_PASSWORD refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigError } from '../../../shared/config/index.js';
import type { Logger } from '../../../shared/observability/logger.js';
import { startAuthService } from '../../../services/auth/main.js';
import { basic, testConfig } from './harness.js';

function capturingLogger(): { logger: Logger; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => text };
}

test('first start creates admin with a generated password, announced once and never logged', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-auth-boot-'));
  try {
    const lines: string[] = [];
    const log = capturingLogger();
    const first = await startAuthService(testConfig(dataDir), { logger: log.logger, env: {}, announce: (l) => lines.push(l) });
    try {
      assert.equal(lines.length, 1);
      const password = first.adminPassword;
      assert.ok(password && password.length >= 20, 'a long random password');
      assert.ok(lines[0].includes(`"admin"`) && lines[0].includes(password));
      assert.ok(!log.text().includes(password), 'the generated password reached the log');
      const token = await fetch(`${first.url}/token`, { headers: { authorization: basic('admin', password) } });
      assert.equal(token.status, 200);
      await first.close();

      const again: string[] = [];
      const second = await startAuthService(testConfig(dataDir), { logger: log.logger, env: {}, announce: (l) => again.push(l) });
      try {
        assert.deepEqual(again, [], 'no second announcement');
        assert.equal(second.adminPassword, undefined);
        const still = await fetch(`${second.url}/token`, { headers: { authorization: basic('admin', password) } });
        assert.equal(still.status, 200);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('DOCKYARD_ADMIN_USER and DOCKYARD_ADMIN_PASSWORD name the first admin; nothing is printed', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-auth-boot-'));
  try {
    const lines: string[] = [];
    const log = capturingLogger();
    const running = await startAuthService(testConfig(dataDir), {
      logger: log.logger,
      env: { DOCKYARD_ADMIN_USER: 'root', DOCKYARD_ADMIN_PASSWORD: 'chosen-password' },
      announce: (l) => lines.push(l),
    });
    try {
      assert.deepEqual(lines, []);
      assert.ok(!log.text().includes('chosen-password'));
      const users = await fetch(`${running.url}/api/v1/users`, { headers: { authorization: basic('root', 'chosen-password') } });
      assert.equal(users.status, 200);
    } finally {
      await running.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a DOCKYARD_ADMIN_PASSWORD that is too short fails the start with a configuration error', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-auth-boot-'));
  try {
    await assert.rejects(
      startAuthService(testConfig(dataDir), { logger: capturingLogger().logger, env: { DOCKYARD_ADMIN_PASSWORD: 'short' }, announce: () => undefined }),
      (err) => err instanceof ConfigError && /DOCKYARD_ADMIN_PASSWORD/.test(err.message),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
