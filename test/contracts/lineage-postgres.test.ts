// The lineage contract on PostgreSQL: a new schema per test, dropped afterwards.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POSTGRES_URL, makePostgresFixture, postgresUnavailableReason } from './metadata-store.contract.js';
import { runLineageContract } from './lineage.contract.js';

const unavailable = await postgresUnavailableReason();
if (unavailable === null) {
  runLineageContract('postgres', makePostgresFixture);
} else if (process.env.CI) {
  test('PostgreSQL is reachable for the lineage contract', () => {
    assert.fail(`PostgreSQL at ${POSTGRES_URL} is unreachable under CI: ${unavailable}`);
  });
} else {
  test('lineage contract: postgres', { skip: `PostgreSQL at ${POSTGRES_URL} unreachable (${unavailable})` }, () => {});
}
