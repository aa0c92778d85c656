// Garbage collection on PostgreSQL (see gc.contract.ts): a fresh schema per registry.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POSTGRES_URL, postgresUnavailable } from '../support/postgres.js';
import { runGcContract } from './gc.contract.js';

const unavailable = await postgresUnavailable();
if (unavailable === null) {
  runGcContract('postgres');
} else if (process.env.CI) {
  test('PostgreSQL is reachable for the garbage collection tests', () => {
    assert.fail(`PostgreSQL at ${POSTGRES_URL} is unreachable under CI: ${unavailable}`);
  });
} else {
  test('garbage collection: postgres', { skip: `PostgreSQL at ${POSTGRES_URL} unreachable (${unavailable})` }, () => {});
}
