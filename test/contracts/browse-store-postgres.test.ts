// The browse store contract on PostgreSQL: a new schema per test. Without a reachable
// server this fails under CI and is skipped (with the reason) elsewhere.
import { makePostgresFixture } from './metadata-store.contract.js';
import { runBrowseStoreContract } from './browse-store.contract.js';
import { postgresSuiteGate } from '../support/postgres.js';

if (await postgresSuiteGate('the browse store contract')) runBrowseStoreContract('postgres', makePostgresFixture);
