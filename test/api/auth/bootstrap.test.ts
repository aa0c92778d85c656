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

test('a DOCKYARD_ADMIN_PASSWORD given on a later start is ignored with a log line saying why', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-auth-boot-'));
  try {
    const first = await startAuthService(testConfig(dataDir), { logger: capturingLogger().logger, env: { DOCKYARD_ADMIN_PASSWORD: 'first-password' }, announce: () => undefined });
    await first.close();
    const log = capturingLogger();
    const second = await startAuthService(testConfig(dataDir), { logger: log.logger, env: { DOCKYARD_ADMIN_PASSWORD: 'changed-password' }, announce: () => undefined });
    try {
      const line = log
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .find((l) => l.msg.includes('DOCKYARD_ADMIN_PASSWORD'));
      assert.ok(line, 'a log line names DOCKYARD_ADMIN_PASSWORD');
      assert.match(line.msg, /ignored: users exist already/);
      assert.equal(line.level, 40, 'a warning');
      assert.ok(!log.text().includes('changed-password'));
      assert.equal((await fetch(`${second.url}/token`, { headers: { authorization: basic('admin', 'changed-password') } })).status, 401);
      assert.equal((await fetch(`${second.url}/token`, { headers: { authorization: basic('admin', 'first-password') } })).status, 200);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the listening line names the service once (the combined start logs through a child with service)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-auth-boot-'));
  try {
    const log = capturingLogger();
    const running = await startAuthService(testConfig(dataDir), { logger: log.logger.child({ service: 'auth' }), env: {}, announce: () => undefined });
    await running.close();
    const line = log.text().split('\n').find((l) => l.includes('"msg":"listening"'));
    assert.ok(line);
    assert.equal(line.match(/"service":/g)?.length, 1, line);
    assert.equal((JSON.parse(line) as { tokenService: string }).tokenService, testConfig(dataDir).token.service);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
