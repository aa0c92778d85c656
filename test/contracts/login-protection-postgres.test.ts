// Login protection on PostgreSQL: a new schema per suite, dropped afterwards. Without a
// reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_POSTGRES_URL, authPostgresUnavailable, postgresAuthDb } from './auth-store.contract.js';
import { runLoginProtectionContract } from './login-protection.contract.js';

const unavailable = await authPostgresUnavailable();
if (unavailable === null) {
  runLoginProtectionContract('postgres', postgresAuthDb);
} else if (process.env.CI) {
  test('PostgreSQL is reachable for the login protection contract', () => {
    assert.fail(`PostgreSQL at ${AUTH_POSTGRES_URL} is unreachable under CI: ${unavailable}`);
  });
} else {
  test('login protection contract: postgres', { skip: `PostgreSQL at ${AUTH_POSTGRES_URL} unreachable (${unavailable}); set CI=1 to make this a failure` }, () => {});
}
