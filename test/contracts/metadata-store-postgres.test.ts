// The MetadataStore contract on PostgreSQL: a new schema per test, dropped afterwards.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  POSTGRES_URL,
  makePostgresFixture,
  postgresUnavailableReason,
  runMetadataStoreContract,
} from './metadata-store.contract.js';
import { runVisibleCatalogContract } from './catalog-visible.contract.js';

const unavailable = await postgresUnavailableReason();
if (unavailable === null) {
  runMetadataStoreContract('postgres', makePostgresFixture);
  runVisibleCatalogContract('postgres', makePostgresFixture);
} else if (process.env.CI) {
  test('PostgreSQL is reachable for the metadata store contract', () => {
    assert.fail(`PostgreSQL at ${POSTGRES_URL} is unreachable under CI: ${unavailable}`);
  });
} else {
  const skip = `PostgreSQL at ${POSTGRES_URL} unreachable (${unavailable}); set CI=1 to make this a failure`;
  test('MetadataStore contract: postgres', { skip }, () => {});
}
