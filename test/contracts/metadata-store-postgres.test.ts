// The MetadataStore contract on PostgreSQL: a new schema per test, dropped afterwards.
// Without a reachable server this fails under CI and is skipped (with the reason) elsewhere.
import { makePostgresFixture, runMetadataStoreContract } from './metadata-store.contract.js';
import { runVisibleCatalogContract } from './catalog-visible.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the metadata store contract')) {
  runMetadataStoreContract('postgres', makePostgresFixture);
  runVisibleCatalogContract('postgres', makePostgresFixture);
}
